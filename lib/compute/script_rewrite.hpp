// What the variant rewrites of a TorchScript source share (variant_script.cpp, static_int8.cpp):
// the model's tensors under their script names, the arguments of a call in the source, int8
// weights, and a resolver that names the quantized:: operators.
#pragma once

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/resolver.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model_builder.hpp"

namespace mlc::compute::script_rewrite {

// A parameter or buffer under the name the exporter registers it by (script_attribute_name).
struct Attribute {
  std::string name;
  torch::Tensor tensor;  // a detached copy
  bool is_buffer = false;
};
std::vector<Attribute> attributes_of(const ClassifierImpl& model);
void register_attribute(torch::jit::Module& module, const Attribute& attribute);

inline constexpr std::string_view kSelf = "self.";
bool is_identifier_char(char c);

// The arguments of the call (or list) whose '(' (or '[') is at `open` in `source`, split at its
// own commas and trimmed, and the position after its ')'. Error(internal) if it is not closed.
struct CallArguments {
  std::vector<std::string> arguments;
  size_t end = 0;
};
CallArguments call_arguments(const std::string& source, size_t open);

// NAME if `argument` is exactly `self.NAME`.
std::optional<std::string> attribute_argument(const std::string& argument);

// The attribute a layer's packed weights are registered as: "fc0_weight" -> "fc0_packed".
std::string packed_name(const std::string& weight);

// int8 weights, symmetric per output channel (dimension 0; zero point 0, as onednn requires):
// each channel's largest magnitude maps to 127.
torch::Tensor quantize_weight(const torch::Tensor& weight);

// quantized::linear_prepack(quantize_weight(weight), bias) under the current quantised engine.
c10::IValue prepack_linear(const torch::Tensor& weight, const std::optional<torch::Tensor>& bias);

// The kinds of layer `source` still computes in fp32, each named once by the operator that
// computes it, in this order: linear, conv2d, lstm, gru, batch_norm, layer_norm, attention
// (torch.matmul). Of a rewritten script: what the variant leaves in fp32 (details' "fp32_layers").
std::vector<std::string> fp32_layers(const std::string& source);

// For Module::define: `torch` names the aten operators (as define's default does) and `quantized`
// the quantized:: ones (torch.ops.quantized in Python).
std::shared_ptr<torch::jit::Resolver> quantized_resolver();

}  // namespace mlc::compute::script_rewrite
