#include "mlc/actor.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include "mlc/environment.hpp"
#include "mlc/text.hpp"

namespace mlc {

std::string current_actor() {
  constexpr std::array kVariables = {"MLC_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN",
                                     "BUILDKITE_BUILD_CREATOR", "BUILD_REQUESTEDFOR", "USER"};
  for (const char* name : kVariables) {
    if (const auto value = environment_variable(name)) {
      check_text(*value, name);
      return *value;
    }
  }
  // getpwuid_r: getpwuid returns a static buffer another thread may overwrite.
  passwd entry{};
  passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return printable(found->pw_name);
  }
  return "uid:" + std::to_string(::getuid());
}

std::string current_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return printable(name);
}

}  // namespace mlc
