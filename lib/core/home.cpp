#include "mlc/home.hpp"

#include <cstdlib>

#include "mlc/environment.hpp"
#include "mlc/home_paths.hpp"

namespace mlc {
namespace fs = std::filesystem;

Home resolve_home(const std::optional<std::string>& flag, const std::optional<std::string>& catalog_flag) {
  fs::path root = ".mlc";
  if (flag && !flag->empty()) {
    root = *flag;
  } else if (const auto env = environment_variable("MLC_HOME")) {
    root = *env;
  }
  std::string catalog;
  if (catalog_flag) {
    catalog = *catalog_flag;
  } else if (const auto env = environment_variable("MLC_CATALOG")) {
    catalog = *env;
  }
  return Home{fs::absolute(root).lexically_normal(), catalog};
}

void create_home_layout(const Home& home) {
  for (const auto& dir : {home.artifacts_dir(), home.deployments_dir(), home.tmp_dir()}) {
    create_inside_home(home, dir);
  }
}

}  // namespace mlc
