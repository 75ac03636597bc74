// What a model is trained to do: the loss it minimises and the metrics it is judged by.
//
// Classification: outputs are logits [batch, classes], targets class indices (int64), the loss
// is cross-entropy, the metrics "loss" and "accuracy". Regression: outputs are [batch, 1],
// targets values [batch] (FP32), the loss is the mean squared error, the metrics "loss" (MSE),
// "rmse", "mae" and "r2".
#pragma once

#include <string>

#include <torch/types.h>

#include "mlc/compute.hpp"
#include "model_info.hpp"

namespace mlc::compute {

torch::Tensor training_loss(Task task, const torch::Tensor& outputs, const torch::Tensor& targets);

// Metrics of outputs for a whole, non-empty split (in double precision).
Metrics split_metrics(Task task, const torch::Tensor& outputs, const torch::Tensor& targets);

// Whether a larger value of `metric` ("loss", "accuracy", "rmse", ...) is better.
bool higher_is_better(const std::string& metric);

// The metric names a task reports, in display order.
std::vector<std::string> metric_names(Task task);

}  // namespace mlc::compute
