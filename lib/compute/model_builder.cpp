#include "model_builder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "architectures/architectures.hpp"
#include "config_access.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

torch::Tensor standardization_buffer(const std::vector<float>& values, StandardizeScope scope,
                                     const std::vector<int64_t>& input_shape) {
  const auto shape = scope == StandardizeScope::global ? std::vector<int64_t>{1} : input_shape;
  return torch::tensor(values, torch::kFloat32).reshape(shape);
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

Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info) {
  const auto architecture = config_value<std::string>(model_config, "/architecture", "model");
  if (architecture == "mlp") return build_mlp(model_config, info);
  if (architecture == "cnn") return build_cnn(model_config, info);
  if (architecture == "lstm") return build_recurrent(RecurrentCell::lstm, model_config, info);
  if (architecture == "gru") return build_recurrent(RecurrentCell::gru, model_config, info);
  if (architecture == "transformer") return build_transformer(model_config, info);
  throw Error(ErrorKind::invalid_input,
              fmt::format("model.architecture: unknown architecture '{}'", architecture));
}

}  // namespace mlc::compute
