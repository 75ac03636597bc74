#include "scoring/scorer.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "exporter.hpp"
#include "inference/inference_model.hpp"
#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"
#include "trainer.hpp"

namespace mlc::compute {
namespace {

// Rows per forward pass: memory stays bounded whatever the input's size (as evaluation does).
constexpr int64_t kBatchRows = 1024;

// The manifest an export would write for `trained`, as far as inference reads it.
nlohmann::json manifest_of(const ScoreRequest& request, const ExportResult& exported) {
  const nlohmann::json& info = request.trained->model_info;
  return {
      {"name", request.name},
      {"versions", {std::to_string(request.version)}},
      {"platform", "pytorch_torchscript"},
      {"inputs", exported.inputs},
      {"outputs", exported.outputs},
      {"task", info.value("task", "classification")},
      {"labels", info.value("class_names", nlohmann::json::array())},
      {"feature_names", info.value("feature_names", nlohmann::json::array())},
      {"preprocessing", info.at("preprocessing")},
  };
}

InferenceModel load_model(const ScoreRequest& request) {
  std::set<std::string> missing(request.missing_values.begin(), request.missing_values.end());
  const std::string source = fmt::format("{}:{}", request.name, request.version);
  if (!request.script.empty()) {
    return InferenceModel(request.script, request.manifest, source + " model.pt", std::move(missing));
  }
  if (!request.trained) throw Error(ErrorKind::internal, "score: neither a script nor a checkpoint");
  ScriptedModel scripted = script_trained_model(*request.trained);
  return InferenceModel(scripted.bytes, manifest_of(request, scripted.metadata), source,
                        std::move(missing));
}

}  // namespace

ScoreResult score(const ScoreRequest& request) {
  if (!request.config.is_null()) use_configured_threads(request.config);
  const InferenceModel model = load_model(request);
  const scoring::ScoringInput input = scoring::read_scoring_input(request.input, model);

  ScoreResult result;
  result.input_kind = input.kind;
  result.columns = input.columns;
  result.passed = input.passed;
  result.regression = model.regression();
  if (!result.regression) result.labels = model.labels();
  const int64_t rows = input.batch.size(0);
  const int64_t width = model.output_width();
  for (int64_t start = 0; start < rows; start += kBatchRows) {
    torch::Tensor outputs;
    try {
      outputs = model.forward(input.batch.slice(0, start, start + kBatchRows));
    } catch (const Error& error) {
      throw Error(error.kind(), fmt::format("{}: {}", request.input.string(), error.what()));
    }
    const float* row_outputs = outputs.data_ptr<float>();
    for (int64_t row = start; row < std::min(rows, start + kBatchRows); ++row, row_outputs += width) {
      if (!std::all_of(row_outputs, row_outputs + width, [](float v) { return std::isfinite(v); })) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: the model's output is not finite; the input holds values too far "
                                "outside those the model was trained on",
                                input.origins[static_cast<size_t>(row)]));
      }
      result.outputs.emplace_back(row_outputs, row_outputs + width);
      if (result.regression) continue;
      Decision decision = model.decide(row_outputs);
      result.predicted.push_back(decision.label);
      result.probabilities.push_back(std::move(decision.probabilities));
    }
  }
  return result;
}

}  // namespace mlc::compute
