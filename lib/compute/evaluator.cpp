#include "evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/utils.h>

#include "checkpoint.hpp"
#include "config_access.hpp"
#include "evaluation_metrics.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"
#include "model_info.hpp"
#include "objective.hpp"
#include "sample_tensors.hpp"

namespace mlc::compute {

namespace {

constexpr int64_t kInferenceBatchSize = 1024;

// The file a user would look at for the test split of `data`.
std::string test_source(const nlohmann::json& data) {
  const char* key = data.value("format", "") == "idx" ? "test_images" : "path";
  return data.value(key, "");
}

void check_fits_model(const data::Splits& splits, const ModelInfo& info,
                      const nlohmann::json& data) {
  if (splits.test.sample_shape != info.input_shape) {
    throw Error(
        ErrorKind::invalid_input,
        fmt::format("{}: samples have shape [{}], the model takes [{}]", test_source(data),
                    fmt::join(splits.test.sample_shape, ","), fmt::join(info.input_shape, ",")));
  }
}

// NaN or infinity cannot be recorded or printed as JSON; a model meets them when the data holds
// values far outside the range it was trained on (its layers overflow).
Error not_finite(const nlohmann::json& data, const std::string& what) {
  return Error(ErrorKind::invalid_input,
               fmt::format("{}: {} is not finite; the data holds values too far outside those "
                           "the model was trained on",
                           test_source(data), what));
}

void check_finite(const Metrics& metrics, const nlohmann::json& data) {
  for (const auto& [name, value] : metrics) {
    if (!std::isfinite(value)) {
      throw not_finite(data, fmt::format("the model's {} on the test split ({})", name, value));
    }
  }
}

// EvalResult::correct or squared_errors, one per sample.
void record_outcomes(Task task, const torch::Tensor& outputs, const torch::Tensor& targets,
                     EvalResult& result) {
  if (task == Task::classification) {
    const torch::Tensor right = outputs.argmax(1).eq(targets).contiguous();
    const bool* flags = right.data_ptr<bool>();
    result.correct.assign(flags, flags + right.numel());
    return;
  }
  const torch::Tensor squared =
      (outputs.reshape({-1}).to(torch::kFloat64) - targets.reshape({-1}).to(torch::kFloat64)).pow(2).contiguous();
  const double* values = squared.data_ptr<double>();
  result.squared_errors.assign(values, values + squared.numel());
}

}  // namespace

// A CSV's test rows are the ones held out in training only with the model's split seed; label i
// means class i only with its class names.
data::Splits load_test_split(const TrainedModel& trained, const ModelInfo& info,
                             const nlohmann::json& data) {
  const uint64_t seed = data::split_seed(trained.config);
  // A table's columns and categories are the model's: the same value gets the same code.
  const data::TableColumns* columns = info.feature_names.empty() ? nullptr : &info.columns;
  data::Splits splits = data::load_splits(data, seed, info.class_names, columns);
  check_fits_model(splits, info, data);
  if (splits.test.count() == 0) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the test split is empty", test_source(data)));
  }
  return splits;
}

OutputMeasures measure_outputs(const ModelInfo& info, const torch::Tensor& outputs,
                               const torch::Tensor& targets, const nlohmann::json& data,
                               int top_k) {
  OutputMeasures measures;
  measures.metrics = split_metrics(info.task, outputs, targets);
  // The objective's metrics first: a loss that is not finite says the most, so it is named.
  check_finite(measures.metrics, data);
  if (info.task == Task::classification) {
    ClassificationMeasures classification =
        classification_measures(outputs, targets, info.class_names, top_k);
    measures.metrics.merge(classification.metrics);
    measures.details = {{"class_names", info.class_names},
                        {"confusion_matrix", classification.confusion_matrix}};
  } else {
    measures.metrics.merge(residual_quantiles(outputs, targets));
  }
  check_finite(measures.metrics, data);
  return measures;
}

torch::Tensor infer_logits(ClassifierImpl& model, const torch::Tensor& features) {
  // Inference mode, not only no-grad: its tensors skip autograd's version counting.
  c10::InferenceMode inference;
  model.eval();
  std::vector<torch::Tensor> batches;
  for (int64_t start = 0; start < features.size(0); start += kInferenceBatchSize) {
    batches.push_back(model.predict(features.slice(0, start, start + kInferenceBatchSize)));
  }
  if (batches.empty()) return model.predict(features);
  return torch::cat(batches);
}

Metrics measure(ClassifierImpl& model, Task task, const torch::Tensor& features,
                const torch::Tensor& targets) {
  return split_metrics(task, infer_logits(model, features), targets);
}

EvalResult evaluate(const TrainedModel& trained, const nlohmann::json& data, const EvalSettings& settings) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  const int classes = static_cast<int>(info.class_names.size());
  if (settings.top_k != 0 && (info.task != Task::classification || settings.top_k < 1 || settings.top_k >= classes)) {
    throw Error(ErrorKind::usage, fmt::format("top-k accuracy for K = {}: the model has {} classes",
                                              settings.top_k, classes));
  }
  const Classifier model = load_trained_model(trained);
  const data::Splits splits = load_test_split(trained, info, data);
  const SampleTensors test = as_tensors(splits.test);
  const torch::Tensor outputs = infer_logits(*model, test.features);
  OutputMeasures measures = measure_outputs(info, outputs, test.targets, data, settings.top_k);
  EvalResult result;
  result.metrics = std::move(measures.metrics);
  result.details = std::move(measures.details);
  result.samples = splits.test.count();
  result.data_files = splits.files;
  result.data_fingerprint = splits.test_fingerprint;
  record_outcomes(info.task, outputs, test.targets, result);
  return result;
}

Predictions predict(const TrainedModel& trained, const nlohmann::json& data, int64_t limit) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  const Classifier model = load_trained_model(trained);
  const data::Splits splits = load_test_split(trained, info, data);
  const int64_t count = limit > 0 ? std::min(limit, splits.test.count()) : splits.test.count();
  const SampleTensors test = as_tensors(splits.test);
  const torch::Tensor logits = infer_logits(*model, test.features.slice(0, 0, count)).contiguous();
  const torch::Tensor labels = logits.argmax(1).contiguous();

  Predictions predictions;
  const int64_t width = logits.size(1);
  const torch::Tensor truth = test.targets.to(torch::kFloat64).contiguous();
  for (int64_t row = 0; row < count; ++row) {
    const float* first = logits.data_ptr<float>() + row * width;
    if (!std::all_of(first, first + width, [](float value) { return std::isfinite(value); })) {
      throw not_finite(data, fmt::format("the model's output for test sample {}", row));
    }
    predictions.outputs.emplace_back(first, first + width);
    if (info.task == Task::classification) predictions.labels.push_back(labels.data_ptr<int64_t>()[row]);
    predictions.targets.push_back(truth.data_ptr<double>()[row]);
  }
  return predictions;
}

}  // namespace mlc::compute
