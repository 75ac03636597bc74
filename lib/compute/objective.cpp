#include "objective.hpp"

#include <torch/nn/functional/loss.h>

namespace mlc::compute {

torch::Tensor training_loss(Task task, const torch::Tensor& outputs, const torch::Tensor& targets) {
  if (task == Task::regression) {
    return torch::mse_loss(outputs.reshape({-1}), targets);
  }
  return torch::nn::functional::cross_entropy(outputs, targets);
}

Metrics split_metrics(Task task, const torch::Tensor& outputs, const torch::Tensor& targets) {
  if (task == Task::regression) {
    const torch::Tensor predicted = outputs.reshape({-1}).to(torch::kFloat64);
    const torch::Tensor actual = targets.to(torch::kFloat64);
    const torch::Tensor error = predicted - actual;
    const double mse = error.square().mean().item<double>();
    const double total = (actual - actual.mean()).square().sum().item<double>();
    const double residual = error.square().sum().item<double>();
    // R² is undefined for a constant target; 0 says "no better than the mean" without a NaN.
    const double r2 = total > 0 ? 1.0 - residual / total : 0.0;
    return {{"loss", mse},
            {"rmse", std::sqrt(mse)},
            {"mae", error.abs().mean().item<double>()},
            {"r2", r2}};
  }
  return {{"loss", torch::nn::functional::cross_entropy(outputs, targets).item<double>()},
          {"accuracy", outputs.argmax(1).eq(targets).to(torch::kFloat64).mean().item<double>()}};
}

bool higher_is_better(const std::string& metric) { return metric == "accuracy" || metric == "r2"; }

std::vector<std::string> metric_names(Task task) {
  if (task == Task::regression) return {"loss", "rmse", "mae", "r2"};
  return {"loss", "accuracy"};
}

}  // namespace mlc::compute
