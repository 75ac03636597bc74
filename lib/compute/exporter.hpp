// TorchScript export: ComputeBackend::export_torchscript.
#pragma once

#include <filesystem>
#include <string>

#include <torch/types.h>

#include "mlc/compute.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

// A trained model as TorchScript, in memory: what export writes, and what `mlc predict --input`
// runs for a version that was never exported.
struct ScriptedModel {
  std::string bytes;      // the TorchScript file's content
  ExportResult metadata;  // its Open Inference Protocol inputs and outputs
};

// Eight raw inputs on the scale of the training data, which exports are checked on:
// standard normal noise mapped back through the scaling (valid category codes for a table's
// categorical columns), from a generator of its own so that exporting never moves torch's global
// one.
torch::Tensor probe_inputs(const ModelInfo& info);

// Rebuilds the trained model, scripts it (raw features in, logits out, standardization inside),
// serializes it in memory, loads it back and checks it against the native model on a few inputs
// (within 1e-5). Throws Error(internal) on a mismatch.
ScriptedModel script_trained_model(const TrainedModel& trained);

// The same for a model built in memory (a pruned copy of a trained one: prune.hpp), which
// `info` describes; leaves `model` in eval() mode.
ScriptedModel script_classifier(ClassifierImpl& model, const ModelInfo& info);

// Writes script_trained_model()'s bytes, which Python's torch.jit.load runs, to `out`, and returns
// their Open Inference Protocol metadata (write_home_file: through `out`.tmp; a file that cannot
// be written is Error(catalog) naming it and the OS's reason). On a mismatch nothing is written
// and Error(internal) is thrown.
ExportResult export_torchscript(const TrainedModel& trained, const std::filesystem::path& out);

}  // namespace mlc::compute
