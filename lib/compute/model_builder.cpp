#include "model_builder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "architectures/architectures.hpp"
#include "config_access.hpp"
#include "mlc/error.hpp"
#include "onnx_graph.hpp"

namespace mlc::compute {

namespace {

torch::Tensor floats(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat32).reshape({static_cast<int64_t>(values.size())});
}

torch::Tensor longs(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64).reshape({static_cast<int64_t>(values.size())});
}

}  // namespace

StandardizeImpl::StandardizeImpl(const ModelInfo& info)
    : table_(!info.feature_names.empty()), output_shape_(info.input_shape) {
  mean_ = register_buffer("mean", floats(info.standardization.mean));
  stddev_ = register_buffer("stddev", floats(info.standardization.stddev));
  if (!table_) return;
  const OneHot one_hot = one_hot_outputs(info);
  numeric_columns_ = register_buffer("numeric_columns", longs(numeric_columns(info)));
  fill_ = register_buffer("fill", floats(info.fill));
  category_columns_ = register_buffer("category_columns", longs(one_hot.columns));
  category_codes_ = register_buffer("category_codes", floats(one_hot.codes));
  output_shape_ = {numeric_columns_.size(0) + category_codes_.size(0)};
}

// The script in script_lines() must use the same operators in the same order, so that exported
// models agree with the trained ones to the last bit.
torch::Tensor StandardizeImpl::forward(const torch::Tensor& input) {
  if (!table_) return (input - mean_) / stddev_;
  torch::Tensor x = input.index_select(1, numeric_columns_);
  x = torch::where(torch::isnan(x), fill_, x);
  x = (x - mean_) / stddev_;
  if (category_codes_.size(0) == 0) return x;
  const torch::Tensor one_hot =
      torch::eq(input.index_select(1, category_columns_), category_codes_).to(torch::kFloat32);
  return torch::cat({x, one_hot}, 1);
}

std::vector<int64_t> StandardizeImpl::output_shape() const { return output_shape_; }

std::string StandardizeImpl::script_lines() const {
  if (!table_) return "    x = (input - self.standardize_mean) / self.standardize_stddev\n";
  std::string lines =
      "    x = input.index_select(1, self.standardize_numeric_columns)\n"
      "    x = torch.where(torch.isnan(x), self.standardize_fill, x)\n"
      "    x = (x - self.standardize_mean) / self.standardize_stddev\n";
  if (category_codes_.size(0) > 0) {
    lines +=
        "    one_hot = torch.eq(input.index_select(1, self.standardize_category_columns), "
        "self.standardize_category_codes).float()\n"
        "    x = torch.cat([x, one_hot], 1)\n";
  }
  return lines;
}

std::string StandardizeImpl::onnx_forward(OnnxGraph& graph, const std::string& input) const {
  const auto scaled = [&](const std::string& x) {
    return graph.node("Div", {graph.node("Sub", {x, graph.constant("standardize_mean", mean_)}),
                              graph.constant("standardize_stddev", stddev_)});
  };
  if (!table_) return scaled(input);
  const std::string numeric = graph.node(
      "Gather", {input, graph.constant("standardize_numeric_columns", numeric_columns_)},
      {{"axis", int64_t{1}}});
  const std::string filled =
      graph.node("Where", {graph.node("IsNaN", {numeric}),
                           graph.constant("standardize_fill", fill_), numeric});
  const std::string x = scaled(filled);
  if (category_codes_.size(0) == 0) return x;
  const std::string categories = graph.node(
      "Gather", {input, graph.constant("standardize_category_columns", category_columns_)},
      {{"axis", int64_t{1}}});
  const std::string one_hot = graph.node(
      "Cast",
      {graph.node("Equal", {categories, graph.constant("standardize_category_codes", category_codes_)})},
      {{"to", int64_t{1}}});  // TensorProto::FLOAT
  return graph.node("Concat", {x, one_hot}, {{"axis", int64_t{1}}});
}

torch::Tensor ClassifierImpl::predict(const torch::Tensor& input) {
  const torch::Tensor output = forward(input);
  if (!target_std_.defined()) return output;
  return output * target_std_ + target_mean_;
}

ScriptSource ClassifierImpl::script() const {
  ScriptSource source = script_source();
  if (!target_std_.defined()) return source;
  // The architecture's forward becomes a helper; the same operators as predict() follow it.
  const std::string header = "def forward(self, input: Tensor) -> Tensor:";
  const size_t at = source.forward.find(header);
  if (at == std::string::npos) {
    throw Error(ErrorKind::internal, "script_source() defines no forward(self, input: Tensor)");
  }
  source.forward.replace(at, header.size(), "def network(self, input: Tensor) -> Tensor:");
  source.forward +=
      "\ndef forward(self, input: Tensor) -> Tensor:\n"
      "    return self.network(input) * self.target_std + self.target_mean\n";
  return source;
}

std::string ClassifierImpl::onnx_predict(OnnxGraph& graph, const std::string& input) const {
  const std::string output = onnx_forward(graph, input);
  if (!target_std_.defined()) return output;
  return graph.node("Add", {graph.node("Mul", {output, graph.constant("target_std", target_std_)}),
                            graph.constant("target_mean", target_mean_)});
}

void ClassifierImpl::scale_output(float mean, float stddev) {
  target_mean_ = register_buffer("target_mean", torch::tensor({mean}, torch::kFloat32));
  target_std_ = register_buffer("target_std", torch::tensor({stddev}, torch::kFloat32));
}

std::string script_attribute_name(const std::string& parameter_name) {
  std::string name = parameter_name;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

namespace {

Classifier build_network(const nlohmann::json& model_config, const ModelInfo& info) {
  const auto architecture = config_value<std::string>(model_config, "/architecture", "model");
  if (architecture == "mlp") return build_mlp(model_config, info);
  if (architecture == "cnn") return build_cnn(model_config, info);
  if (architecture == "lstm") return build_recurrent(RecurrentCell::lstm, model_config, info);
  if (architecture == "gru") return build_recurrent(RecurrentCell::gru, model_config, info);
  if (architecture == "transformer") return build_transformer(model_config, info);
  throw Error(ErrorKind::invalid_input,
              fmt::format("model.architecture: unknown architecture '{}'", architecture));
}

}  // namespace

Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info) {
  Classifier model = build_network(model_config, info);
  if (info.task == Task::regression) model->scale_output(info.target_mean, info.target_std);
  return model;
}

}  // namespace mlc::compute
