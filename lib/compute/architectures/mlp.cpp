// The multi-layer perceptron: a stack of fully connected layers.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include <fmt/format.h>

#include "architectures.hpp"
#include "config_access.hpp"
#include "kernels.hpp"
#include "layers.hpp"
#include "onnx_graph.hpp"

namespace mlc::compute {

namespace {

struct MlpOptions {
  std::vector<int64_t> hidden_layers;  // widths, input side first; empty for a linear model
  Activation activation = Activation::relu;
  double dropout = 0;       // after each hidden activation, while training only
  bool batch_norm = false;  // BatchNorm1d between each hidden Linear and its activation
  WeightInit init;
};

MlpOptions mlp_options(const nlohmann::json& config) {
  MlpOptions options;
  options.hidden_layers = config_value<std::vector<int64_t>>(config, "/hidden_layers", "model");
  options.activation = activation_from_name(
      config_value<std::string>(config, "/activation", "model"), "model.activation");
  options.dropout = config_value<double>(config, "/dropout", "model");
  // Configs recorded before batch_norm existed lack it; their versions must still load.
  options.batch_norm =
      config_has(config, "/batch_norm") && config_value<bool>(config, "/batch_norm", "model");
  options.init = weight_init_from_config(config);
  return options;
}

// Batch norm with the defaults of torch.nn.BatchNorm1d (eps 1e-5, momentum 0.1).
constexpr double kBatchNormEps = 1e-5;
constexpr double kBatchNormMomentum = 0.1;

class MlpImpl : public ClassifierImpl {
 public:
  MlpImpl(const MlpOptions& options, const ModelInfo& info) : options_(options) {
    standardize_ = register_module("standardize", Standardize(info));
    feature_count_ = element_count(standardize_->output_shape());
    int64_t width = feature_count_;
    std::vector<int64_t> widths = options.hidden_layers;
    widths.push_back(output_width(info));
    for (size_t i = 0; i < widths.size(); ++i) {
      layers_.push_back(
          register_module(fmt::format("fc{}", i), torch::nn::Linear(width, widths[i])));
      initialize(options.init, "linear", {layers_.back()->weight}, {layers_.back()->bias});
      if (options.batch_norm && i + 1 < widths.size()) {
        norms_.push_back(
            register_module(fmt::format("bn{}", i), torch::nn::BatchNorm1d(widths[i])));
      }
      width = widths[i];
    }
    refuse_unused_init(options.init, {"linear"});
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    // An explicit width instead of -1: it also works for an empty batch, and a wrongly shaped
    // input fails here rather than inside the first matmul.
    torch::Tensor x = standardize_->forward(input).reshape({input.size(0), feature_count_});
    for (size_t i = 0; i + 1 < layers_.size(); ++i) {
      x = torch::linear(x, layers_[i]->weight, layers_[i]->bias);
      if (options_.batch_norm) x = batch_norm(x, *norms_[i]);
      x = activate(x, options_.activation);
      if (options_.dropout > 0) x = compute::dropout(x, options_.dropout, is_training());
    }
    return torch::linear(x, layers_.back()->weight, layers_.back()->bias);
  }

  ScriptSource script_source() const override {
    std::string body = "def forward(self, input: Tensor) -> Tensor:\n" +
                       standardize_->script_lines() +
                       fmt::format("    x = x.reshape([x.size(0), {}])\n", feature_count_);
    const size_t last = layers_.size() - 1;
    for (size_t i = 0; i < last; ++i) {
      std::string x = fmt::format("torch.linear(x, self.fc{0}_weight, self.fc{0}_bias)", i);
      if (options_.batch_norm) {
        x = fmt::format(
            "torch.batch_norm({1}, self.bn{0}_weight, self.bn{0}_bias, self.bn{0}_running_mean, "
            "self.bn{0}_running_var, False, {2}, {3}, True)",
            i, x, script_float(kBatchNormMomentum), script_float(kBatchNormEps));
      }
      body += fmt::format("    x = {}({})\n", script_activation(options_.activation), x);
    }
    body += fmt::format("    return torch.linear(x, self.fc{0}_weight, self.fc{0}_bias)\n", last);
    return {"MlcMlp", body};
  }

  std::string onnx_forward(OnnxGraph& graph, const std::string& input) const override {
    std::string x =
        graph.reshape_batch(standardize_->onnx_forward(graph, input), "flat", {feature_count_});
    const size_t last = layers_.size() - 1;
    for (size_t i = 0; i < last; ++i) {
      x = graph.linear(x, fmt::format("fc{}", i), layers_[i]->weight, layers_[i]->bias);
      if (options_.batch_norm) {
        const auto& norm = *norms_[i];
        x = graph.batch_norm(x, fmt::format("bn{}", i), norm.weight, norm.bias, norm.running_mean,
                             norm.running_var, kBatchNormEps);
      }
      x = graph.activate(x, options_.activation);
    }
    return graph.linear(x, fmt::format("fc{}", last), layers_[last]->weight, layers_[last]->bias);
  }

 private:
  // torch.nn.BatchNorm1d's computation, spelt as the script spells it.
  torch::Tensor batch_norm(const torch::Tensor& x, torch::nn::BatchNorm1dImpl& norm) {
    if (is_training()) norm.num_batches_tracked += 1;
    return compute::batch_norm(x, norm.weight, norm.bias, norm.running_mean, norm.running_var,
                                     is_training(), kBatchNormMomentum, kBatchNormEps);
  }

  MlpOptions options_;
  int64_t feature_count_ = 0;
  Standardize standardize_{nullptr};
  std::vector<torch::nn::Linear> layers_;
  std::vector<torch::nn::BatchNorm1d> norms_;
};
TORCH_MODULE(Mlp);

}  // namespace

Classifier build_mlp(const nlohmann::json& model_config, const ModelInfo& info) {
  return Mlp(mlp_options(model_config), info).ptr();
}

}  // namespace mlc::compute
