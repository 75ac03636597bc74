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
};

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
  CLI::App* command = app.add_subcommand("predict", "Run a version on the first samples of its test split");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--limit", flags->limit, "How many samples (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  command->add_option("--data", flags->data, "Other data: a CSV file, or IDX images");
  command->add_option("--labels", flags->labels, "IDX labels for --data images");
  command->callback([flags, &state] { run_predict(*flags, state); });
}

}  // namespace mlc::cli
