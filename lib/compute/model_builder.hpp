// The networks mlc trains, and the one place that turns a config's "model" object into one.
//
// Every architecture derives from ClassifierImpl, so the trainer, the checkpoint code, the
// evaluator and the exporter work on any of them through build_model()'s Classifier.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model_info.hpp"

namespace mlc::compute {

// The preprocessing fitted on the training split, as the first module of every architecture, so
// that checkpoints and exported models carry it and raw features go in. Every architecture
// registers it as "standardize", starts its script with script_line() and sizes its first layer
// by output_shape(). Today: (x - mean) / std with buffers [1] (global) or input_shape (per feature).
class StandardizeImpl : public torch::nn::Module {
 public:
  explicit StandardizeImpl(const ModelInfo& info);
  torch::Tensor forward(const torch::Tensor& input);
  // The shape of one sample after preprocessing (without the batch dimension).
  std::vector<int64_t> output_shape() const;
  // The TorchScript statement(s) computing `x` from the raw `input`, indented by four spaces and
  // ending in a newline, naming the buffers as the exporter registers them ("standardize_mean").
  std::string script_lines() const;

 private:
  std::vector<int64_t> input_shape_;
  torch::Tensor mean_;
  torch::Tensor stddev_;
};
TORCH_MODULE(Standardize);

// A module as TorchScript source, for the exporter. The source defines `forward(self, input)`
// and refers to each parameter and buffer by its name in named_parameters()/named_buffers()
// with '.' replaced by '_' (script_attribute_name), which is how the exporter registers them.
struct ScriptSource {
  std::string class_name;  // e.g. "MlcMlp": what Python shows as original_name
  std::string forward;
};

std::string script_attribute_name(const std::string& parameter_name);

// What every architecture offers: raw features in, logits out, preprocessing included.
class ClassifierImpl : public torch::nn::Module {
 public:
  // input: [batch, input_shape...] raw features (FP32); returns logits [batch, class_count].
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
  // The same computation in inference mode (no dropout), as TorchScript.
  virtual ScriptSource script_source() const = 0;
};
using Classifier = std::shared_ptr<ClassifierImpl>;

enum class Activation { relu, gelu, tanh, sigmoid };

struct MlpOptions {
  std::vector<int64_t> hidden_layers;  // widths, input side first; empty for a linear model
  Activation activation = Activation::relu;
  double dropout = 0;  // after each hidden activation, while training only
  int64_t class_count = 0;
};

// standardize -> flatten -> [Linear -> activation -> dropout] per hidden layer -> Linear.
// Parameters are named fc0, fc1, ... in order; the buffers standardize.mean/stddev.
class MlpImpl : public ClassifierImpl {
 public:
  MlpImpl(const MlpOptions& options, const ModelInfo& info);
  torch::Tensor forward(const torch::Tensor& input) override;
  ScriptSource script_source() const override;

 private:
  MlpOptions options_;
  int64_t feature_count_ = 0;
  Standardize standardize_{nullptr};
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

// Builds the network a config's "model" object describes for inputs and classes as `info` says,
// with freshly initialised weights (from torch's global generator: seed it first).
// Throws Error(invalid_input) for an unknown architecture or activation.
Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info);

}  // namespace mlc::compute
