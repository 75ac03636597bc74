// An ONNX graph (opset 17) under construction, for `export --variant onnx`: each architecture adds
// its inference-mode forward to one through ClassifierImpl::onnx_forward, next to the TorchScript
// it writes in script_source(). The protobuf classes of Debian's libonnx-dev stay in
// onnx_graph.cpp, so that the architectures compile without ONNX's headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "architectures/architectures.hpp"
#include "architectures/layers.hpp"

namespace mlc::compute {

// The opset the graphs use: LayerNormalization needs 17; Gelu (20) is spelt with Erf instead.
constexpr int64_t kOnnxOpset = 17;
// The file format version: 8, the newest libonnx 1.12 reads and writes.
constexpr int64_t kOnnxIrVersion = 8;

// A node attribute: an integer, a float (stored as ONNX's float), a list of integers or a string.
// (Not a std::variant: GCC 12 warns of an uninitialised string in brace-initialised lists of one.)
struct OnnxAttribute {
  enum class Type { integer, real, integers, text };
  OnnxAttribute(std::string name_, int64_t value) : name(std::move(name_)), integer(value) {}
  OnnxAttribute(std::string name_, double value)
      : name(std::move(name_)), type(Type::real), real(value) {}
  OnnxAttribute(std::string name_, std::vector<int64_t> values)
      : name(std::move(name_)), type(Type::integers), integers(std::move(values)) {}
  OnnxAttribute(std::string name_, std::string value)
      : name(std::move(name_)), type(Type::text), text(std::move(value)) {}

  std::string name;
  Type type = Type::integer;
  int64_t integer = 0;
  double real = 0;
  std::vector<int64_t> integers;
  std::string text;
};

// One layer of torch.nn.LSTM's or GRU's flat weights (weight_ih, weight_hh, bias_ih, bias_hh per
// layer and direction, in the order torch::lstm takes them) as ONNX's LSTM/GRU take them:
// input W [directions, gates x hidden, features], recurrent R [directions, gates x hidden,
// hidden], bias B [directions, 2 x gates x hidden] (W's biases, then R's), each direction's gate
// blocks reordered from torch's order (LSTM i, f, g, o; GRU r, z, n) to ONNX's (LSTM i, o, f, c;
// GRU z, r, h).
struct OnnxRecurrentWeights {
  torch::Tensor input, recurrent, bias;
};
OnnxRecurrentWeights onnx_recurrent_weights(RecurrentCell cell,
                                            const std::vector<torch::Tensor>& flat_weights,
                                            int64_t layer, int64_t directions);

class OnnxGraph {
 public:
  OnnxGraph();
  ~OnnxGraph();
  OnnxGraph(const OnnxGraph&) = delete;
  OnnxGraph& operator=(const OnnxGraph&) = delete;

  // A constant (float32 or int64 tensor, copied) as an initializer named `name`, or `name`_2,
  // `name`_3 ... if that is taken; returns the name given. Other dtypes are Error(internal).
  std::string constant(const std::string& name, const torch::Tensor& value);
  // A one-dimensional int64 constant (shapes, axes, indices).
  std::string ints(const std::string& name, const std::vector<int64_t>& values);

  // One node of `op_type` (default domain) with one output; returns that output's name.
  // An empty input name is an omitted optional input.
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<OnnxAttribute>& attributes = {});
  // The same with `outputs` outputs, returned in order.
  std::vector<std::string> nodes(const std::string& op_type, const std::vector<std::string>& inputs,
                                 size_t outputs, const std::vector<OnnxAttribute>& attributes = {});

  // What the architectures share, each as torch computes it:
  // torch.linear on a [batch, features] input (Gemm with transB).
  std::string linear(const std::string& x, const std::string& prefix, const torch::Tensor& weight,
                     const torch::Tensor& bias);
  // torch.linear on an input of any rank (MatMul by the transposed weight, then Add).
  std::string linear_nd(const std::string& x, const std::string& prefix,
                        const torch::Tensor& weight, const torch::Tensor& bias);
  // relu, tanh, sigmoid, and gelu as torch.gelu's exact form x * (1 + erf(x / sqrt(2))) / 2.
  std::string activate(const std::string& x, Activation activation);
  // x.reshape([x.size(0), extents...]): the batch dimension copied (Reshape's 0), the rest fixed.
  std::string reshape_batch(const std::string& x, const std::string& name,
                            const std::vector<int64_t>& extents);
  // torch.batch_norm in eval mode (running statistics), for [N, C] and [N, C, H, W].
  std::string batch_norm(const std::string& x, const std::string& prefix,
                         const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& running_mean, const torch::Tensor& running_var,
                         double eps);

  int64_t node_count() const;

  // The graph as a serialized ModelProto (ir_version 8, opset 17) whose input `input_name` is
  // FP32 [batch, input_shape...] and whose output `output` is renamed `output_name`, FP32
  // [batch, output_width], "batch" a symbolic dimension. Checked with libonnx's
  // onnx::checker::check_model and strict shape inference (what Python's
  // check_model(full_check=True) runs) before it is returned: Error(internal) naming the
  // checker's message if the graph is not valid ONNX.
  std::string model_bytes(const std::string& graph_name, const std::string& input_name,
                          const std::vector<int64_t>& input_shape, const std::string& output,
                          const std::string& output_name, int64_t output_width);

 private:
  struct Proto;
  std::unique_ptr<Proto> proto_;
  std::string unique_name(const std::string& name);
};

}  // namespace mlc::compute
