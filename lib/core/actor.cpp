#include "mlc/actor.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include "mlc/text.hpp"

namespace mlc {

std::string current_actor() {
  constexpr std::array kVariables = {"MLC_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN",
                                     "BUILDKITE_BUILD_CREATOR", "BUILD_REQUESTEDFOR", "USER"};
  for (const char* name : kVariables) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      check_text(value, name);
      return value;
    }
  }
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) {
    return printable(entry->pw_name);
  }
  return "uid:" + std::to_string(::getuid());
}

std::string current_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return printable(name);
}

}  // namespace mlc
