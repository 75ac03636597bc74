#include "onnx_graph.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc::compute {

struct OnnxGraph::Proto {
  onnx::GraphProto graph;
  std::map<std::string, int> used;  // name -> how often it was asked for
};

OnnxGraph::OnnxGraph() : proto_(std::make_unique<Proto>()) {}
OnnxGraph::~OnnxGraph() = default;

std::string OnnxGraph::unique_name(const std::string& name) {
  const int count = ++proto_->used[name];
  return count == 1 ? name : fmt::format("{}_{}", name, count);
}

std::string OnnxGraph::constant(const std::string& name, const torch::Tensor& value) {
  const torch::Tensor tensor = value.detach().contiguous().cpu();
  onnx::TensorProto* proto = proto_->graph.add_initializer();
  proto->set_name(unique_name(name));
  for (int64_t extent : tensor.sizes()) proto->add_dims(extent);
  if (tensor.scalar_type() == torch::kFloat32) {
    proto->set_data_type(onnx::TensorProto::FLOAT);
  } else if (tensor.scalar_type() == torch::kInt64) {
    proto->set_data_type(onnx::TensorProto::INT64);
  } else {
    throw Error(ErrorKind::internal,
                fmt::format("ONNX constant {}: dtype {} is neither float32 nor int64", name,
                            c10::toString(tensor.scalar_type())));
  }
  // raw_data is little-endian, as this machine's tensors are.
  proto->set_raw_data(tensor.data_ptr(), tensor.numel() * tensor.element_size());
  return proto->name();
}

std::string OnnxGraph::ints(const std::string& name, const std::vector<int64_t>& values) {
  return constant(name, torch::tensor(values, torch::kInt64)
                            .reshape({static_cast<int64_t>(values.size())}));
}

std::vector<std::string> OnnxGraph::nodes(const std::string& op_type,
                                          const std::vector<std::string>& inputs, size_t outputs,
                                          const std::vector<OnnxAttribute>& attributes) {
  onnx::NodeProto* node = proto_->graph.add_node();
  node->set_op_type(op_type);
  node->set_name(unique_name(op_type));
  for (const std::string& input : inputs) node->add_input(input);
  std::vector<std::string> names;
  for (size_t i = 0; i < outputs; ++i) {
    names.push_back(outputs == 1 ? node->name() : fmt::format("{}_out{}", node->name(), i));
    node->add_output(names.back());
  }
  for (const OnnxAttribute& attribute : attributes) {
    onnx::AttributeProto* proto = node->add_attribute();
    proto->set_name(attribute.name);
    switch (attribute.type) {
      case OnnxAttribute::Type::integer:
        proto->set_type(onnx::AttributeProto::INT);
        proto->set_i(attribute.integer);
        break;
      case OnnxAttribute::Type::real:
        proto->set_type(onnx::AttributeProto::FLOAT);
        proto->set_f(static_cast<float>(attribute.real));
        break;
      case OnnxAttribute::Type::integers:
        proto->set_type(onnx::AttributeProto::INTS);
        for (int64_t value : attribute.integers) proto->add_ints(value);
        break;
      case OnnxAttribute::Type::text:
        proto->set_type(onnx::AttributeProto::STRING);
        proto->set_s(attribute.text);
        break;
    }
  }
  return names;
}

std::string OnnxGraph::node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::vector<OnnxAttribute>& attributes) {
  return nodes(op_type, inputs, 1, attributes).front();
}

std::string OnnxGraph::linear(const std::string& x, const std::string& prefix,
                              const torch::Tensor& weight, const torch::Tensor& bias) {
  std::vector<std::string> inputs = {x, constant(prefix + "_weight", weight)};
  if (bias.defined()) inputs.push_back(constant(prefix + "_bias", bias));
  return node("Gemm", inputs, {{"transB", int64_t{1}}});
}

std::string OnnxGraph::linear_nd(const std::string& x, const std::string& prefix,
                                 const torch::Tensor& weight, const torch::Tensor& bias) {
  const std::string product =
      node("MatMul", {x, constant(prefix + "_weight_t", weight.t().contiguous())});
  return node("Add", {product, constant(prefix + "_bias", bias)});
}

std::string OnnxGraph::activate(const std::string& x, Activation activation) {
  switch (activation) {
    case Activation::relu: return node("Relu", {x});
    case Activation::tanh: return node("Tanh", {x});
    case Activation::sigmoid: return node("Sigmoid", {x});
    case Activation::gelu: {
      const std::string erf =
          node("Erf", {node("Div", {x, constant("sqrt2", torch::tensor(std::sqrt(2.0f)))})});
      const std::string one_plus = node("Add", {erf, constant("one", torch::tensor(1.0f))});
      return node("Mul", {node("Mul", {x, one_plus}), constant("half", torch::tensor(0.5f))});
    }
  }
  return x;
}

std::string OnnxGraph::reshape_batch(const std::string& x, const std::string& name,
                                     const std::vector<int64_t>& extents) {
  std::vector<int64_t> shape = {0};
  shape.insert(shape.end(), extents.begin(), extents.end());
  return node("Reshape", {x, ints(name, shape)});
}

std::string OnnxGraph::batch_norm(const std::string& x, const std::string& prefix,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  const torch::Tensor& running_mean,
                                  const torch::Tensor& running_var, double eps) {
  return node("BatchNormalization",
              {x, constant(prefix + "_weight", weight), constant(prefix + "_bias", bias),
               constant(prefix + "_running_mean", running_mean),
               constant(prefix + "_running_var", running_var)},
              {{"epsilon", eps}});
}

namespace {

// Torch's gate blocks (rows of equal height) in ONNX's order.
torch::Tensor onnx_gate_order(RecurrentCell cell, const torch::Tensor& tensor) {
  const std::vector<torch::Tensor> gates =
      tensor.detach().chunk(cell == RecurrentCell::lstm ? 4 : 3, 0);
  if (cell == RecurrentCell::lstm) return torch::cat({gates[0], gates[3], gates[1], gates[2]});
  return torch::cat({gates[1], gates[0], gates[2]});
}

}  // namespace

OnnxRecurrentWeights onnx_recurrent_weights(RecurrentCell cell,
                                            const std::vector<torch::Tensor>& flat_weights,
                                            int64_t layer, int64_t directions) {
  std::vector<torch::Tensor> input, recurrent, bias;
  for (int64_t direction = 0; direction < directions; ++direction) {
    const auto first = static_cast<size_t>((layer * directions + direction) * 4);
    if (first + 4 > flat_weights.size()) {
      throw Error(ErrorKind::internal,
                  fmt::format("recurrent layer {} direction {}: only {} weight tensors", layer,
                              direction, flat_weights.size()));
    }
    input.push_back(onnx_gate_order(cell, flat_weights[first]));
    recurrent.push_back(onnx_gate_order(cell, flat_weights[first + 1]));
    bias.push_back(torch::cat({onnx_gate_order(cell, flat_weights[first + 2]),
                               onnx_gate_order(cell, flat_weights[first + 3])}));
  }
  return {torch::stack(input), torch::stack(recurrent), torch::stack(bias)};
}

int64_t OnnxGraph::node_count() const { return proto_->graph.node_size(); }

namespace {

void set_type(onnx::ValueInfoProto* value, const std::string& name,
              const std::vector<int64_t>& extents) {
  value->set_name(name);
  onnx::TypeProto_Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t extent : extents) shape->add_dim()->set_dim_value(extent);
}

}  // namespace

std::string OnnxGraph::model_bytes(const std::string& graph_name, const std::string& input_name,
                                   const std::vector<int64_t>& input_shape,
                                   const std::string& output, const std::string& output_name,
                                   int64_t output_width) {
  onnx::ModelProto model;
  static_assert(onnx::IR_VERSION == kOnnxIrVersion, "libonnx's IR version is not the one documented");
  model.set_ir_version(kOnnxIrVersion);
  model.set_producer_name("mlc");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* graph = model.mutable_graph();
  *graph = proto_->graph;
  graph->set_name(graph_name);
  set_type(graph->add_input(), input_name, input_shape);
  set_type(graph->add_output(), output_name, {output_width});
  bool renamed = false;
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    for (std::string& name : *node.mutable_output()) {
      if (name == output) {
        name = output_name;
        renamed = true;
      }
    }
  }
  if (!renamed) {
    throw Error(ErrorKind::internal, fmt::format("ONNX graph: no node computes '{}'", output));
  }
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::ShapeInferenceOptions options;
    options.check_type = true;
    options.error_mode = 1;  // strict: a shape or type that does not chain is an error
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& error) {
    throw Error(ErrorKind::internal,
                fmt::format("the ONNX graph fails libonnx's checker: {}; nothing was written",
                            error.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw Error(ErrorKind::internal, "the ONNX model could not be serialized");
  }
  return bytes;
}

}  // namespace mlc::compute
