// A fresh MLC_HOME per test, removed afterwards.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "mlc/home.hpp"

namespace mlc::test {

class TempHome {
 public:
  TempHome() {
    std::random_device random;
    root_ = std::filesystem::temp_directory_path() /
            ("mlc-unit-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(root_);
  }
  ~TempHome() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;

  Home home() const { return Home{root_ / "home"}; }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace mlc::test
