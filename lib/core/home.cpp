#include "mlc/home.hpp"

#include <cstdlib>

#include "mlc/error.hpp"

namespace mlc {
namespace fs = std::filesystem;

Home resolve_home(const std::optional<std::string>& flag) {
  fs::path root = ".mlc";
  if (flag && !flag->empty()) {
    root = *flag;
  } else if (const char* env = std::getenv("MLC_HOME"); env != nullptr && *env != '\0') {
    root = env;
  }
  return Home{fs::absolute(root).lexically_normal()};
}

void create_home_layout(const Home& home) {
  for (const auto& dir : {home.root, home.artifacts_dir(), home.deployments_dir(), home.tmp_dir()}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) {
      throw Error(ErrorKind::catalog, "cannot create " + dir.string() + ": " + error.message());
    }
  }
}

}  // namespace mlc
