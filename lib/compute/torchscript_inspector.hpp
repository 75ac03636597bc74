// Inspecting a TorchScript file trained elsewhere: ComputeBackend::inspect_torchscript.
#pragma once

#include <filesystem>

#include "mlc/compute.hpp"

namespace mlc::compute {

// Loads `file` with torch::jit::load on the CPU and reports forward()'s signature and the
// parameters. Throws Error(not_found) if the file cannot be read, Error(invalid_input) naming it if
// libtorch cannot load it as TorchScript or it has no forward() method.
TorchScriptInfo inspect_torchscript(const std::filesystem::path& file);

}  // namespace mlc::compute
