// A fresh MLC_HOME per test (not created: the code under test creates what it needs).
//
// With MLC_TEST_POSTGRES set to a PostgreSQL server's URL (ctest's unit_core_postgres starts one,
// tests/cli/postgres_server.sh), each home's catalogue is a schema of its own on that server, so
// that the catalogue's tests run unchanged on both backends.
#pragma once

#include <cstdlib>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include "mlc/home.hpp"
#include "test_files.hpp"

namespace mlc::test {

inline const char* postgres_test_server() { return std::getenv("MLC_TEST_POSTGRES"); }

class TempHome : public TempDir {
 public:
  TempHome() {
    const char* server = postgres_test_server();
    if (server == nullptr) return;
    std::random_device random;
    const std::string schema = "t" + std::to_string(random()) + std::to_string(random());
    const std::string create =
        "psql -X -q -v ON_ERROR_STOP=1 -d '" + std::string(server) + "' -c 'CREATE SCHEMA " + schema + "'";
    REQUIRE(std::system(create.c_str()) == 0);
    catalog_ = std::string(server) + (std::string(server).find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema;
  }
  Home home() const { return Home{path() / "home", catalog_}; }
  const std::filesystem::path& root() const { return path(); }
  bool postgres() const { return !catalog_.empty(); }

 private:
  std::string catalog_;
};

}  // namespace mlc::test
