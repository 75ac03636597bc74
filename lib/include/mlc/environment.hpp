// The process environment, read in one place.
#pragma once

#include <optional>
#include <string>

namespace mlc {

// The variable's value; nullopt when it is unset or empty.
//
// getenv is not thread-safe against a concurrent setenv. mlc sets a variable in one place only,
// choose_blas_kernels() (compute_loader.cpp), while it loads the compute library and before any
// thread of its own runs (libtorch's threads start after), so the reads here cannot race with it.
std::optional<std::string> environment_variable(const char* name);

}  // namespace mlc
