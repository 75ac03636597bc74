// What every kind of variant shares (ComputeBackend::export_variant): the version's test split and
// its fp32 export, loaded once, and the measurement of a model file on that split.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/csrc/jit/api/module.h>

#include "mlc/data.hpp"
#include "exporter.hpp"
#include "mlc/compute.hpp"
#include "model_info.hpp"
#include "sample_tensors.hpp"

namespace mlc::compute {

// The fp32 export a variant is measured against, and the test split it is measured on.
struct Fp32Baseline {
  ModelInfo info;
  data::Splits splits;
  SampleTensors test;
  ScriptedModel script;       // the plain export's bytes and OIP metadata (script_trained_model)
  torch::jit::Module module;  // those bytes loaded back, as Python's torch.jit.load would
};

// Refuses data whose test split is empty or does not fit the model (Error(invalid_input), as
// evaluate() words it) before anything else is done.
Fp32Baseline load_fp32_baseline(const VariantRequest& request);

// A TorchScript module's bytes, as module.save writes them, and those bytes loaded back (eval mode).
std::string saved(const torch::jit::Module& module);
torch::jit::Module loaded(const std::string& bytes);

// The variant's outputs on probe inputs must be finite and of the fp32 export's shape
// (Error(internal) otherwise); with `tolerance`, also within tolerance x max(1, |fp32 outputs|)
// of them (Error(refused) naming `what` otherwise: a model this variant cannot hold).
void check_against_fp32(Fp32Baseline& baseline, torch::jit::Module& variant,
                        std::optional<double> tolerance, const std::string& what);

// The scalar metrics evaluate() records, then median latency per sample at batch 1 and 64 with one
// intra-op thread.
VariantMeasurement measure_script(torch::jit::Module& module, size_t size_bytes, const Fp32Baseline& baseline,
                                  const nlohmann::json& data);

// The result for a variant saved as TorchScript `bytes` (loaded back as `module`): the fp32 export
// and the variant measured side by side, then the bytes written to request.out (write_home_file:
// Error(catalog) if it cannot be written).
VariantResult measured_torchscript_variant(Fp32Baseline& baseline, const VariantRequest& request,
                                           const std::string& bytes, torch::jit::Module& module,
                                           nlohmann::json details);

}  // namespace mlc::compute
