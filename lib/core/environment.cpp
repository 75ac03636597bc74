#include "mlc/environment.hpp"

#include <cstdlib>

namespace mlc {

std::optional<std::string> environment_variable(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): see the header
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace mlc
