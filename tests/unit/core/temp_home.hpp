// A fresh MLC_HOME per test (not created: the code under test creates what it needs).
#pragma once

#include "mlc/home.hpp"
#include "test_files.hpp"

namespace mlc::test {

class TempHome : public TempDir {
 public:
  Home home() const { return Home{path() / "home"}; }
  const std::filesystem::path& root() const { return path(); }
};

}  // namespace mlc::test
