// Running a model on a split: the metrics the trainer reports after each epoch, and the eval
// and predict steps on a trained model's test split.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "mlc/compute.hpp"
#include "mlc/data.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

// Logits for `features` ([count, input_shape...]) in eval() mode under InferenceMode, in batches
// of 1024 so that memory stays bounded whatever the split's size. Leaves the model in eval().
torch::Tensor infer_logits(ClassifierImpl& model, const torch::Tensor& features);

// Metrics of `model` on a non-empty split (objective.hpp), as infer_logits runs it.
Metrics measure(ClassifierImpl& model, Task task, const torch::Tensor& features,
                const torch::Tensor& targets);

// The splits of `data` as `trained` sees them: its split seed, class names and table columns.
// Throws Error(invalid_input) naming the test file if the test split is empty or its samples do
// not have the model's input shape (or, for tables, its feature columns).
data::Splits load_test_split(const TrainedModel& trained, const ModelInfo& info,
                             const nlohmann::json& data);

// What an evaluation records of a model's `outputs` on the test split of `data`.
struct OutputMeasures {
  Metrics metrics;         // the objective's metrics and evaluation_metrics.hpp's
  nlohmann::json details;  // EvalResult::details
};

// The metrics evaluate() records for `outputs` against `targets` (top_k as EvalSettings says).
// Throws Error(invalid_input) naming the test file of `data` when one is not finite.
OutputMeasures measure_outputs(const ModelInfo& info, const torch::Tensor& outputs,
                               const torch::Tensor& targets, const nlohmann::json& data,
                               int top_k);

// ComputeBackend::evaluate and ::predict. Both load the test split of `data` with the model's
// seed and class names, and throw Error(invalid_input) if it is empty or its samples do not
// have the model's input shape (or, for tables, its feature columns), and when a metric (evaluate)
// or an output (predict) is not finite: NaN and infinity cannot be recorded or printed as JSON.
EvalResult evaluate(const TrainedModel& trained, const nlohmann::json& data, const EvalSettings& settings);
Predictions predict(const TrainedModel& trained, const nlohmann::json& data, int64_t limit);

}  // namespace mlc::compute
