#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "mlc/deployer.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;

using mlc::test::read_file;
using mlc::test::write_file;

namespace {
size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST_CASE("Deployer: place, replace, roll back, remove") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  write_file(temp.root() / "v1.pt", "one");
  write_file(temp.root() / "v2.pt", "two");
  const fs::path live = deployer.directory("prod", "m");

  deployer.place("prod", "m", {{temp.root() / "v1.pt", "model.pt"}}).commit();
  CHECK(read_file(live / "model.pt") == "one");

  SUBCASE("a committed swap replaces the content and leaves nothing beside it") {
    deployer.place("prod", "m", {{temp.root() / "v2.pt", "model.pt"}}).commit();
    CHECK(read_file(live / "model.pt") == "two");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("a swap that is not committed puts the old content back") {
    {
      auto swap = deployer.place("prod", "m", {{temp.root() / "v2.pt", "model.pt"}});
      CHECK(read_file(live / "model.pt") == "two");
    }
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("a first deployment that is not committed is taken away") {
    { auto swap = deployer.place("staging", "m", {{temp.root() / "v2.pt", "model.pt"}}); }
    CHECK_FALSE(fs::exists(deployer.directory("staging", "m")));
  }
  SUBCASE("a missing source changes nothing") {
    CHECK_THROWS(deployer.place("prod", "m", {{temp.root() / "missing.pt", "model.pt"}}));
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("take_down, committed") {
    deployer.take_down("prod", "m").commit();
    CHECK_FALSE(fs::exists(live));
    CHECK(entries(live.parent_path()) == 0);
    CHECK_NOTHROW(deployer.take_down("prod", "m").commit());
  }
  SUBCASE("take_down, not committed, puts the directory back") {
    { auto removal = deployer.take_down("prod", "m"); CHECK_FALSE(fs::exists(live)); }
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
}
