// The TorchScript of a variant (ComputeBackend::export_variant): the exporter's module with its
// tensors stored otherwise, and the architecture's script_source() rewritten to read them.
//
// The rewrites are exact, not textual guesses: every architecture names a tensor in its script as
// `self.NAME` (NAME = script_attribute_name of a parameter or buffer), and spells a Linear layer
// `torch.linear(INPUT, self.P_weight, self.P_bias)`. Only those attribute names and those calls
// are rewritten; a call that does not have that form is left in fp32 and reported as such.
#pragma once

#include <ATen/Context.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/api/module.h>

#include "mlc/compute.hpp"
#include "model_builder.hpp"

namespace mlc::compute {

// Training samples for static int8's calibration, and where they came from (for the details).
struct CalibrationSample {
  torch::Tensor features;  // raw training features [count, ...], as forward() takes them
  int64_t seed = 0;        // the seed that drew them from the training split
};

struct VariantScript {
  torch::jit::Module module;  // not yet saved: what Python's torch.jit.load will run
  nlohmann::json details;     // VariantResult::details
};

// fp16: every floating-point parameter and buffer of the network stored as half, each use in
// forward reading `self.NAME.float()`; the preprocessing's tensors ("standardize_*") and a
// regression model's "target_mean"/"target_std" stay fp32: they are on the raw data's scale,
// which may exceed half precision's range, and are a few numbers.
// details: {"storage": "float16", "compute": "float32", "fp16_tensors": N, "fp32_tensors": [...]}.
//
// int8 (dynamic): every Linear layer becomes `quantized.linear_dynamic(INPUT, self.P_packed)`,
// P_packed its weight quantised to int8 symmetrically per output channel and prepacked with its
// fp32 bias by quantized::linear_prepack under the current quantised engine (OnednnEngine);
// P_weight and P_bias are no longer attributes. Every `torch.lstm(...)` / `torch.gru(...)` whose
// weights are attributes becomes `torch.quantized_lstm(...)` / `torch.quantized_gru(...)` over
// one `self.rnn_cell_lK[_reverse]` per layer and direction: cell params made by
// quantized::make_quantized_cell_params_dynamic from its two matrices, each prepacked with its
// own bias (int8 as above). Convolutions, normalisation and attention's products stay fp32.
// details: {"engine": "onednn", "quantization": "dynamic", "quantized_linear_layers": N,
//           "quantized_recurrent_cells": N (one per layer and direction: a bidirectional
//           2-layer LSTM packs 4),
//           "weights": ..., "activations": ..., "fp32_layers": ["conv2d", ...]}.
//
// Throws Error(refused) for a variant the model cannot have: fp16 of a tensor whose values exceed
// half precision's range, int8 of a model without a Linear or recurrent layer.
//
// int8 (static, Quantization::static_int8): see static_int8.hpp; `calibration` is required.
// Quantization::by_architecture is static for a model with a convolution and no recurrent or
// attention layer (the CNN; static_int8_misfit), dynamic otherwise.
VariantScript script_variant(const ClassifierImpl& model, VariantKind kind,
                             Quantization quantization = Quantization::by_architecture,
                             const CalibrationSample* calibration = nullptr);

// Makes onednn libtorch's quantised engine while it lives and restores the previous one after:
// int8 weights are prepacked for the engine current at the time, and loading a saved int8 module
// prepacks them again. Throws Error(usage) if this libtorch has no onednn engine.
class OnednnEngine {
 public:
  OnednnEngine();
  ~OnednnEngine();
  OnednnEngine(const OnednnEngine&) = delete;
  OnednnEngine& operator=(const OnednnEngine&) = delete;

 private:
  at::QEngine previous_;
};

}  // namespace mlc::compute
