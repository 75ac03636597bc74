#include "layers.hpp"

#include <torch/nn/init.h>
#include <torch/utils.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config_access.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

const std::map<std::string, InitScheme> kInitSchemes = {
    {"xavier_uniform", InitScheme::xavier_uniform},
    {"xavier_normal", InitScheme::xavier_normal},
    {"kaiming_uniform", InitScheme::kaiming_uniform},
    {"kaiming_normal", InitScheme::kaiming_normal},
    {"normal", InitScheme::normal},
    {"zeros", InitScheme::zeros}};

const char* const kInitLayerTypes[] = {"linear", "conv2d", "lstm", "gru", "attention"};

void fill(torch::Tensor& weight, InitScheme scheme, double normal_std) {
  switch (scheme) {
    case InitScheme::xavier_uniform: torch::nn::init::xavier_uniform_(weight); break;
    case InitScheme::xavier_normal: torch::nn::init::xavier_normal_(weight); break;
    case InitScheme::kaiming_uniform: torch::nn::init::kaiming_uniform_(weight); break;
    case InitScheme::kaiming_normal: torch::nn::init::kaiming_normal_(weight); break;
    case InitScheme::normal: torch::nn::init::normal_(weight, 0.0, normal_std); break;
    case InitScheme::zeros: torch::nn::init::zeros_(weight); break;
  }
}

}  // namespace

void refuse_model_config(const std::string& key_path, const std::string& reason) {
  throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", key_path, reason));
}

Activation activation_from_name(const std::string& name, const std::string& key_path) {
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "tanh") return Activation::tanh;
  if (name == "sigmoid") return Activation::sigmoid;
  refuse_model_config(key_path, fmt::format("unknown activation '{}'", name));
}

torch::Tensor batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                         double momentum, double eps) {
  const bool one_value_per_channel = training && x.numel() <= x.size(1);
  if (one_value_per_channel) {
    return torch::batch_norm(x, weight, bias, torch::Tensor(), torch::Tensor(), true, momentum, eps, true);
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, true);
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

const char* script_activation(Activation activation) {
  switch (activation) {
    case Activation::relu: return "torch.relu";
    case Activation::gelu: return "torch.gelu";
    case Activation::tanh: return "torch.tanh";
    case Activation::sigmoid: return "torch.sigmoid";
  }
  return "";
}

WeightInit weight_init_from_config(const nlohmann::json& model_config) {
  WeightInit init;
  if (!config_has(model_config, "/init")) return init;
  const auto config = config_value<nlohmann::json>(model_config, "/init", "model");
  for (const char* layer_type : kInitLayerTypes) {
    if (!config.contains(layer_type)) continue;
    const auto name =
        config_value<std::string>(config, std::string("/") + layer_type, "model.init");
    const auto scheme = kInitSchemes.find(name);
    if (scheme == kInitSchemes.end()) {
      refuse_model_config(fmt::format("model.init.{}", layer_type),
                          fmt::format("unknown initialisation '{}'", name));
    }
    init.schemes[layer_type] = scheme->second;
  }
  if (config.contains("normal_std")) {
    init.normal_std = config_value<double>(config, "/normal_std", "model.init");
  }
  return init;
}

void initialize(const WeightInit& init, const std::string& layer_type,
                const std::vector<torch::Tensor>& weights,
                const std::vector<torch::Tensor>& biases) {
  const auto scheme = init.schemes.find(layer_type);
  if (scheme == init.schemes.end()) return;
  torch::NoGradGuard no_grad;
  for (torch::Tensor weight : weights) fill(weight, scheme->second, init.normal_std);
  for (torch::Tensor bias : biases) torch::nn::init::zeros_(bias);
}

void refuse_unused_init(const WeightInit& init, const std::set<std::string>& layer_types) {
  for (const auto& [layer_type, scheme] : init.schemes) {
    if (layer_types.count(layer_type) == 0) {
      refuse_model_config(fmt::format("model.init.{}", layer_type),
                          fmt::format("the model has no {} layers", layer_type));
    }
  }
}

SequenceShape sequence_shape(const std::vector<int64_t>& sample_shape) {
  if (sample_shape.size() == 1) return {sample_shape[0], 1};
  const std::vector<int64_t> rest(sample_shape.begin() + 1, sample_shape.end());
  return {sample_shape.front(), element_count(rest)};
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("{}", fmt::join(shape, "x"));
}

std::string script_float(double value) {
  // TorchScript has no float literal without a point or exponent: "1" would be an int.
  std::string text = fmt::format("{:.17g}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

}  // namespace mlc::compute
