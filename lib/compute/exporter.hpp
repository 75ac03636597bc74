// TorchScript export: ComputeBackend::export_torchscript.
#pragma once

#include <filesystem>

#include "mlc/compute.hpp"

namespace mlc::compute {

// Writes the trained model as a TorchScript module (raw features in, logits out, standardization
// inside) that Python's torch.jit.load runs, and returns its Open Inference Protocol metadata.
// The file is written to `out`.tmp, loaded back and checked against the native model on a few
// inputs (within 1e-5) before it is renamed to `out`; on a mismatch nothing is left behind and
// Error(internal) is thrown.
ExportResult export_torchscript(const TrainedModel& trained, const std::filesystem::path& out);

}  // namespace mlc::compute
