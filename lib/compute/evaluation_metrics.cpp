#include "evaluation_metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc::compute {
namespace {

constexpr int kCalibrationBins = 15;

double ratio(double numerator, double denominator) { return denominator > 0 ? numerator / denominator : 0.0; }

// Per-class precision, recall, F1 and support from the confusion matrix, and their F1 averages.
void add_per_class_metrics(const std::vector<std::vector<int64_t>>& confusion,
                           const std::vector<std::string>& class_names, int64_t samples, Metrics& metrics) {
  const size_t classes = class_names.size();
  double f1_sum = 0, f1_weighted = 0;
  int occurring = 0;
  for (size_t c = 0; c < classes; ++c) {
    int64_t support = 0, predicted = 0;
    for (size_t other = 0; other < classes; ++other) {
      support += confusion[c][other];
      predicted += confusion[other][c];
    }
    const auto hits = static_cast<double>(confusion[c][c]);
    const double precision = ratio(hits, static_cast<double>(predicted));
    const double recall = ratio(hits, static_cast<double>(support));
    const double f1 = ratio(2 * precision * recall, precision + recall);
    const std::string& name = class_names[c];
    metrics["precision[" + name + "]"] = precision;
    metrics["recall[" + name + "]"] = recall;
    metrics["f1[" + name + "]"] = f1;
    metrics["support[" + name + "]"] = static_cast<double>(support);
    if (support > 0 || predicted > 0) {
      f1_sum += f1;
      ++occurring;
    }
    f1_weighted += f1 * static_cast<double>(support);
  }
  metrics["f1_macro"] = ratio(f1_sum, occurring);
  metrics["f1_weighted"] = f1_weighted / static_cast<double>(samples);
}

// Expected calibration error, 15 equal-width bins of the top softmax probability.
double expected_calibration_error(const double* logits, const int64_t* targets, const int64_t* predicted,
                                  int64_t samples, int64_t classes) {
  std::array<double, kCalibrationBins> confidence_sum{}, correct{}, count{};
  for (int64_t row = 0; row < samples; ++row) {
    const double* scores = logits + row * classes;
    const double largest = *std::max_element(scores, scores + classes);
    double total = 0;
    for (int64_t c = 0; c < classes; ++c) total += std::exp(scores[c] - largest);
    const double confidence = 1.0 / total;
    const int bin = std::clamp(static_cast<int>(std::ceil(confidence * kCalibrationBins)) - 1, 0,
                               kCalibrationBins - 1);
    confidence_sum[bin] += confidence;
    correct[bin] += predicted[row] == targets[row] ? 1.0 : 0.0;
    count[bin] += 1;
  }
  double error = 0;
  for (int bin = 0; bin < kCalibrationBins; ++bin) {
    if (count[bin] == 0) continue;
    error += count[bin] / static_cast<double>(samples) *
             std::abs(correct[bin] / count[bin] - confidence_sum[bin] / count[bin]);
  }
  return error;
}

// Whether the true class is among the k highest-scoring: fewer than k classes score above it.
double top_k_accuracy(const double* logits, const int64_t* targets, int64_t samples, int64_t classes, int k) {
  int64_t hits = 0;
  for (int64_t row = 0; row < samples; ++row) {
    const double* scores = logits + row * classes;
    const double truth = scores[targets[row]];
    const auto above = std::count_if(scores, scores + classes, [&](double s) { return s > truth; });
    hits += above < k ? 1 : 0;
  }
  return static_cast<double>(hits) / static_cast<double>(samples);
}

// numpy.quantile's default: position q * (n - 1) in the sorted values, linearly interpolated.
double quantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

ClassificationMeasures classification_measures(const torch::Tensor& logits, const torch::Tensor& targets,
                                               const std::vector<std::string>& class_names, int top_k) {
  const int64_t samples = logits.size(0), classes = logits.size(1);
  if (samples == 0 || classes != static_cast<int64_t>(class_names.size()) || top_k < 0 || top_k >= classes) {
    throw Error(ErrorKind::internal,
                fmt::format("classification_measures: {} samples, {} logits for {} classes, top_k {}",
                            samples, classes, class_names.size(), top_k));
  }
  const torch::Tensor scores = logits.to(torch::kFloat64).contiguous();
  const torch::Tensor truth = targets.to(torch::kInt64).contiguous();
  const torch::Tensor predicted = logits.argmax(1).contiguous();  // as "accuracy" counts
  const int64_t* truth_data = truth.data_ptr<int64_t>();
  const int64_t* predicted_data = predicted.data_ptr<int64_t>();

  ClassificationMeasures measures;
  measures.confusion_matrix.assign(static_cast<size_t>(classes), std::vector<int64_t>(static_cast<size_t>(classes), 0));
  for (int64_t row = 0; row < samples; ++row) {
    if (truth_data[row] < 0 || truth_data[row] >= classes) {
      throw Error(ErrorKind::internal, fmt::format("classification_measures: class {} of {}", truth_data[row], classes));
    }
    ++measures.confusion_matrix[static_cast<size_t>(truth_data[row])][static_cast<size_t>(predicted_data[row])];
  }
  add_per_class_metrics(measures.confusion_matrix, class_names, samples, measures.metrics);
  if (top_k > 0) {
    measures.metrics[fmt::format("top{}_accuracy", top_k)] =
        top_k_accuracy(scores.data_ptr<double>(), truth_data, samples, classes, top_k);
  }
  measures.metrics["ece"] =
      expected_calibration_error(scores.data_ptr<double>(), truth_data, predicted_data, samples, classes);
  return measures;
}

Metrics residual_quantiles(const torch::Tensor& outputs, const torch::Tensor& targets) {
  const torch::Tensor residuals =
      (targets.to(torch::kFloat64) - outputs.reshape({-1}).to(torch::kFloat64)).contiguous();
  std::vector<double> sorted(residuals.data_ptr<double>(), residuals.data_ptr<double>() + residuals.numel());
  if (sorted.empty()) throw Error(ErrorKind::internal, "residual_quantiles: no samples");
  std::sort(sorted.begin(), sorted.end());
  return {{"residual_p05", quantile(sorted, 0.05)},
          {"residual_p25", quantile(sorted, 0.25)},
          {"residual_p50", quantile(sorted, 0.50)},
          {"residual_p75", quantile(sorted, 0.75)},
          {"residual_p95", quantile(sorted, 0.95)}};
}

}  // namespace mlc::compute
