// The networks mlc trains, and the one place that turns a config's "model" object into one.
//
// Every architecture derives from ClassifierImpl, so the trainer, the checkpoint code, the
// evaluator and the exporter work on any of them through build_model()'s Classifier. Each writes
// its forward with the same aten operators as its TorchScript (torch::conv2d / torch.conv2d, ...),
// so that an export agrees with the trained model to the last bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "model_info.hpp"

namespace mlc::compute {

class OnnxGraph;  // onnx_graph.hpp

// The preprocessing fitted on the training split, as the first module of every architecture, so
// that checkpoints and exported models carry it and raw features go in. Every architecture
// registers it as "standardize", starts its script with script_line() and sizes its first layer
// by output_shape(). Images: (x - mean) / std with buffers [1]. Tables: missing numeric values
// filled, numeric columns scaled, categorical columns one-hot encoded and appended (the module
// keeps the name "standardize", which checkpoints of mlc 0.1 use).
class StandardizeImpl : public torch::nn::Module {
 public:
  explicit StandardizeImpl(const ModelInfo& info);
  torch::Tensor forward(const torch::Tensor& input);
  // The shape of one sample after preprocessing (without the batch dimension).
  std::vector<int64_t> output_shape() const;
  // The TorchScript statement(s) computing `x` from the raw `input`, indented by four spaces and
  // ending in a newline, naming the buffers as the exporter registers them ("standardize_mean").
  std::string script_lines() const;
  // The same as ONNX nodes reading the raw input `input`; returns the name of `x`.
  std::string onnx_forward(OnnxGraph& graph, const std::string& input) const;

 private:
  bool table_ = false;
  std::vector<int64_t> output_shape_;
  torch::Tensor mean_;
  torch::Tensor stddev_;
  // Tables only.
  torch::Tensor numeric_columns_;   // int64 [numeric]
  torch::Tensor fill_;              // [numeric]
  torch::Tensor category_columns_;  // int64 [one-hot outputs]: the input column of each
  torch::Tensor category_codes_;    // [one-hot outputs]: the category code each one matches
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
  // The same computation as ONNX nodes added to `graph` (onnx_graph.hpp), reading the raw input
  // `input`; returns the name of the logits.
  virtual std::string onnx_forward(OnnxGraph& graph, const std::string& input) const = 0;

  // What callers use: forward(), then for a regression model the output mapped from the
  // standardized target back to the target's units (y * target_std + target_mean), so that the
  // network learns a standardized target whatever the target's scale. script() is its TorchScript, onnx_predict()
  // its ONNX nodes (returning the name of the output).
  torch::Tensor predict(const torch::Tensor& input);
  ScriptSource script() const;
  std::string onnx_predict(OnnxGraph& graph, const std::string& input) const;
  // Registers the buffers "target_mean" and "target_std" (regression models only).
  void scale_output(float mean, float stddev);

 private:
  torch::Tensor target_mean_;
  torch::Tensor target_std_;
};
using Classifier = std::shared_ptr<ClassifierImpl>;

// Builds the network a config's "model" object describes (with its schema defaults filled in) for
// inputs and classes as `info` says, with freshly initialised weights (from torch's global
// generator: seed it first). The architectures live in architectures/, one file each.
// Throws Error(invalid_input) "model.KEY.PATH: REASON" for a config the schema lets through but
// that cannot be built for these inputs: an unknown architecture or layer type, layers whose
// shapes do not chain (a kernel larger than its input, a linear layer on an image), heads that do
// not divide the model width.
Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info);

}  // namespace mlc::compute
