#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

struct PredictFlags {
  std::string ref;
  int64_t limit = 10;
  std::optional<std::string> data;
  std::optional<std::string> labels;
  std::optional<std::string> input;
  std::optional<std::string> output;
};

// One scored row as --json prints it: the passed-through cells by column, then the scores.
nlohmann::json score_row_json(const ScoreResult& result, size_t row) {
  nlohmann::json columns = nlohmann::json::object();
  for (size_t i = 0; i < result.columns.size(); ++i) columns[result.columns[i]] = result.passed[row][i];
  if (result.regression) return {{"columns", columns}, {"predicted_value", result.outputs[row].at(0)}};
  const int64_t label = result.predicted[row];
  return {{"columns", columns},
          {"predicted_index", label},
          {"predicted_label", result.labels.at(static_cast<size_t>(label))},
          {"probabilities", result.probabilities[row]},
          {"logits", result.outputs[row]}};
}

// predict --input: the scores go to --output (CSV), else to stdout (CSV, or in the --json
// document); with --output, stdout says what was written.
void run_score(const PredictFlags& flags, CliState& state) {
  ScoreOptions options;
  options.ref = parse_reference(flags.ref);
  options.input = *flags.input;
  if (flags.output) options.output = *flags.output;
  const ScoreOutcome outcome = score_version(state.session(), options);
  const ScoreResult& result = outcome.result;

  nlohmann::json document = version_summary_json(outcome.version);
  document["input"] = outcome.input.string();
  document["input_kind"] = result.input_kind;
  document["model_source"] = outcome.exported ? "export" : "checkpoint";
  document["task"] = result.regression ? "regression" : "classification";
  if (!result.regression) document["class_names"] = result.labels;
  document["rows"] = result.outputs.size();
  if (outcome.output) {
    document["output"] = outcome.output->string();
    state.print(document, fmt::format("scored {} rows of {} with {} into {}", result.outputs.size(),
                                      outcome.input.string(), subject(outcome.version),
                                      outcome.output->string()));
    return;
  }
  if (!state.global.json) {
    std::cout << scores_csv(result);  // the data as it is, unescaped; run() checks stdout
    return;
  }
  auto rows = nlohmann::json::array();
  for (size_t row = 0; row < result.outputs.size(); ++row) rows.push_back(score_row_json(result, row));
  document["predictions"] = std::move(rows);
  state.print(document, "");
}

void run_predict(const PredictFlags& flags, CliState& state) {
  PredictOptions options;
  options.ref = parse_reference(flags.ref);
  options.limit = flags.limit;
  if (flags.data) options.data = *flags.data;
  if (flags.labels) options.labels = *flags.labels;
  const PredictOutcome outcome = predict_version(state.session(), options);

  const Predictions& predictions = outcome.predictions;
  auto rows = nlohmann::json::array();
  std::string human;
  const bool regression = outcome.version.model_info.value("task", "") == "regression";
  for (size_t i = 0; i < predictions.outputs.size(); ++i) {
    if (regression) {
      const float value = predictions.outputs[i].at(0);
      rows.push_back({{"index", i}, {"value", value}, {"target", predictions.targets[i]}});
      human += fmt::format("{:>5}  {:>12.4f} (true: {})\n", i, value, predictions.targets[i]);
      continue;
    }
    const auto& class_names = outcome.version.model_info.at("class_names");
    const auto& label = class_names.at(predictions.labels[i]);
    const auto& target = class_names.at(static_cast<size_t>(predictions.targets[i]));
    rows.push_back({{"index", i}, {"label", label}, {"class", predictions.labels[i]},
                    {"target", target}, {"logits", predictions.outputs[i]}});
    human += fmt::format("{:>5}  {:<20} (true: {})\n", i, label.get<std::string>(),
                         target.get<std::string>());
  }
  nlohmann::json document = version_summary_json(outcome.version);
  document["predictions"] = rows;
  state.print(document, human);
}

}  // namespace

void setup_predict(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* command = app.add_subcommand(
      "predict",
      "Run a version on the first samples of its test split or of --data, with their labels, or "
      "score new data without labels (--input)");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  CLI::Option* limit = command->add_option("--limit", flags->limit, "How many samples (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  CLI::Option* data = command->add_option("--data", flags->data, "Other data: a CSV file, or IDX images");
  CLI::Option* labels = command->add_option("--labels", flags->labels, "IDX labels for --data images");
  CLI::Option* input =
      command->add_option("--input", flags->input,
                          "Score new data, no labels needed: a CSV file (.csv, .csv.gz), PNG or JPEG "
                          "images or a directory of them, IDX images, or an infer request (.json)");
  input->excludes(data)->excludes(labels)->excludes(limit);
  command->add_option("--output", flags->output, "With --input: write the scores to this CSV file")
      ->needs(input);
  command->callback([flags, &state] {
    if (flags->input) {
      run_score(*flags, state);
    } else {
      run_predict(*flags, state);
    }
  });
}

}  // namespace mlc::cli
