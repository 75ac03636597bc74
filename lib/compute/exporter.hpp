// TorchScript export: ComputeBackend::export_torchscript.
#pragma once

#include <filesystem>

#include "mlc/compute.hpp"

namespace mlc::compute {

// Writes the trained model as a TorchScript module (raw features in, logits out, standardization
// inside) that Python's torch.jit.load runs, and returns its Open Inference Protocol metadata.
// The module is serialized in memory, loaded back and checked against the native model on a few
// inputs (within 1e-5) before it is written to `out` (write_home_file: through `out`.tmp; a file
// that cannot be written is Error(catalog) naming it and the OS's reason). On a mismatch nothing
// is written and Error(internal) is thrown.
ExportResult export_torchscript(const TrainedModel& trained, const std::filesystem::path& out);

}  // namespace mlc::compute
