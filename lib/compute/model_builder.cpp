#include "model_builder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config_access.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

torch::Tensor standardization_buffer(const std::vector<float>& values, StandardizeScope scope,
                                     const std::vector<int64_t>& input_shape) {
  const auto shape = scope == StandardizeScope::global ? std::vector<int64_t>{1} : input_shape;
  return torch::tensor(values, torch::kFloat32).reshape(shape);
}

Activation activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "tanh") return Activation::tanh;
  if (name == "sigmoid") return Activation::sigmoid;
  throw Error(ErrorKind::invalid_input,
              fmt::format("model.activation: unknown activation '{}'", name));
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::relu: return torch::relu(x);
    case Activation::gelu: return torch::gelu(x);
    case Activation::tanh: return torch::tanh(x);
    case Activation::sigmoid: return torch::sigmoid(x);
  }
  return x;
}

// The TorchScript spelling of activate(); must stay the same operator, so that exported models
// agree with the trained ones to the last bit.
const char* script_activation(Activation activation) {
  switch (activation) {
    case Activation::relu: return "torch.relu";
    case Activation::gelu: return "torch.gelu";
    case Activation::tanh: return "torch.tanh";
    case Activation::sigmoid: return "torch.sigmoid";
  }
  return "";
}

MlpOptions mlp_options(const nlohmann::json& model_config, const ModelInfo& info) {
  MlpOptions options;
  options.hidden_layers =
      config_value<std::vector<int64_t>>(model_config, "/hidden_layers", "model");
  options.activation =
      activation_from_name(config_value<std::string>(model_config, "/activation", "model"));
  options.dropout = config_value<double>(model_config, "/dropout", "model");
  options.class_count = output_width(info);
  return options;
}

}  // namespace

StandardizeImpl::StandardizeImpl(const ModelInfo& info)
    : input_shape_(info.input_shape),
      mean_(register_buffer("mean",
                            standardization_buffer(info.standardization.mean,
                                                   info.standardization.scope, input_shape_))),
      stddev_(register_buffer("stddev",
                              standardization_buffer(info.standardization.stddev,
                                                     info.standardization.scope, input_shape_))) {}

torch::Tensor StandardizeImpl::forward(const torch::Tensor& input) {
  return (input - mean_) / stddev_;
}

std::vector<int64_t> StandardizeImpl::output_shape() const { return input_shape_; }

std::string StandardizeImpl::script_lines() const {
  return "    x = (input - self.standardize_mean) / self.standardize_stddev\n";
}

std::string script_attribute_name(const std::string& parameter_name) {
  std::string name = parameter_name;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

MlpImpl::MlpImpl(const MlpOptions& options, const ModelInfo& info) : options_(options) {
  standardize_ = register_module("standardize", Standardize(info));
  feature_count_ = 1;
  for (int64_t extent : standardize_->output_shape()) feature_count_ *= extent;
  int64_t width = feature_count_;
  std::vector<int64_t> widths = options.hidden_layers;
  widths.push_back(options.class_count);
  for (int64_t next_width : widths) {
    const auto name = fmt::format("fc{}", layers_.size());
    layers_.push_back(register_module(name, torch::nn::Linear(width, next_width)));
    width = next_width;
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& input) {
  // An explicit width instead of -1: it also works for an empty batch, and a wrongly shaped
  // input fails here rather than inside the first matmul.
  torch::Tensor x = standardize_->forward(input).reshape({input.size(0), feature_count_});
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    x = activate(layers_[i]->forward(x), options_.activation);
    if (options_.dropout > 0) x = torch::dropout(x, options_.dropout, is_training());
  }
  return layers_.back()->forward(x);
}

ScriptSource MlpImpl::script_source() const {
  std::string body = "def forward(self, input: Tensor) -> Tensor:\n" + standardize_->script_lines() +
                     fmt::format("    x = x.reshape([x.size(0), {}])\n", feature_count_);
  const size_t last = layers_.size() - 1;
  for (size_t i = 0; i < last; ++i) {
    body += fmt::format("    x = {}(torch.linear(x, self.fc{}_weight, self.fc{}_bias))\n",
                        script_activation(options_.activation), i, i);
  }
  body += fmt::format("    return torch.linear(x, self.fc{}_weight, self.fc{}_bias)\n", last, last);
  return {"MlcMlp", body};
}

Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info) {
  const auto architecture = config_value<std::string>(model_config, "/architecture", "model");
  if (architecture == "mlp") {
    return Mlp(mlp_options(model_config, info), info).ptr();
  }
  throw Error(ErrorKind::invalid_input,
              fmt::format("model.architecture: unknown architecture '{}'", architecture));
}

}  // namespace mlc::compute
