// The metrics mlc eval records beyond the training objective's (objective.hpp), computed from the
// same outputs, in double precision. The definitions are scikit-learn's, so that its functions on
// the same predictions give the same numbers (tests/python/check_eval_metrics.py proves it).
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "mlc/compute.hpp"

namespace mlc::compute {

struct ClassificationMeasures {
  Metrics metrics;
  // Row i: samples of true class i; column j: those predicted as class j (argmax of the logits).
  std::vector<std::vector<int64_t>> confusion_matrix;
};

// `logits` [samples, classes] (FP32), `targets` class indices [samples] (int64), one class name
// per column. Records, for each class C: "precision[C]", "recall[C]", "f1[C]" (0 where undefined:
// no predictions of C, no samples of C, or both 0, as scikit-learn's zero_division=0) and
// "support[C]" (samples of C); "f1_macro" (the unweighted mean of f1 over the classes that occur
// in the targets or the predictions, as sklearn's f1_score(average="macro")); "f1_weighted"
// (weighted by support); "topK_accuracy" when top_k > 0 (the true class's logit is among the K
// largest: fewer than K classes score strictly higher); "ece", the expected calibration error over
// 15 equal-width bins of confidence (the largest softmax probability): the sum over bins
// ((b-1)/15, b/15] of |bin| / samples * |accuracy in the bin - mean confidence in the bin|
// (Guo et al., 2017). Needs at least one sample and 0 <= top_k < classes (Error(internal) else).
ClassificationMeasures classification_measures(const torch::Tensor& logits, const torch::Tensor& targets,
                                               const std::vector<std::string>& class_names, int top_k);

// `outputs` [samples, 1] or [samples], `targets` [samples]. "residual_p05", "residual_p25",
// "residual_p50", "residual_p75" and "residual_p95": quantiles of target - prediction, linearly
// interpolated between order statistics (numpy.quantile's default, "linear").
Metrics residual_quantiles(const torch::Tensor& outputs, const torch::Tensor& targets);

}  // namespace mlc::compute
