#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/baseline.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct EvalFlags {
  std::string ref;
  std::vector<std::string> gates;
  std::optional<std::string> data;
  std::optional<std::string> labels;
  std::optional<int> top_k;
};

// "accuracy = 0.861, threshold >= 0.85", or for a relative gate "accuracy = 0.861 vs
// production's fmnist:3 0.874 (-0.013), gate >= @production-0.005", or the reason it could not
// be compared.
std::string gate_comparison_text(const Gate& gate, const nlohmann::json& outcome,
                                 const std::string& model) {
  const double value = outcome.at("value").get<double>();
  if (!gate.baseline_target) {
    return fmt::format("{} = {:.6g}, threshold {} {}", printable(gate.metric), value,
                       gate.comparison, gate.threshold);
  }
  const std::string threshold = fmt::format(
      "gate {} {}", gate.comparison, printable(relative_threshold_text(*gate.baseline_target, gate.threshold)));
  if (outcome.contains("reason")) {
    return fmt::format("{} = {:.6g}, {}: {}", printable(gate.metric), value, threshold,
                       printable(outcome.at("reason").get<std::string>()));
  }
  const nlohmann::json& baseline = outcome.at("baseline");
  return fmt::format("{}, {}",
                     comparison_text(printable(gate.metric), value, *gate.baseline_target, model,
                                     baseline.at("version").get<int64_t>(),
                                     baseline.at("value").get<double>()),
                     threshold);
}

void run_eval(const EvalFlags& flags, CliState& state) {
  EvalOptions options;
  options.ref = parse_reference(flags.ref);
  for (const auto& gate : flags.gates) options.gates.push_back(parse_gate(gate));
  if (flags.data) options.data = *flags.data;
  if (flags.labels) options.labels = *flags.labels;
  options.top_k = flags.top_k;
  const EvalOutcome outcome = evaluate_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["metrics"] = outcome.evaluation.metrics;
  document["samples"] = outcome.evaluation.samples;
  document["passed"] = outcome.evaluation.passed;
  document["gates"] = outcome.evaluation.gates;
  document["evaluated_at"] = outcome.evaluation.at;
  document["data_files"] = data_files_json(outcome.evaluation.data_files);
  document["data_fingerprint"] = outcome.evaluation.data_fingerprint;
  document["on_test_split"] = outcome.evaluation.on_test_split.value_or(false);
  document["details"] = outcome.evaluation.details;
  std::string human = fmt::format("{} {}: {} on {} test samples\n  data fingerprint {} ({})",
                                  subject(outcome.version), to_string(outcome.version.state),
                                  metrics_text(outcome.evaluation.metrics), outcome.evaluation.samples,
                                  outcome.evaluation.data_fingerprint,
                                  options.data ? "the data named with --data" : "its test split");
  // The gates come back in the order given: the value beside the threshold it was held to.
  std::string failures;
  for (size_t i = 0; i < options.gates.size(); ++i) {
    const Gate& gate = options.gates[i];
    const nlohmann::json& outcome_of_gate = outcome.evaluation.gates.at(i);
    const bool passed = outcome_of_gate.at("passed").get<bool>();
    const std::string comparison = gate_comparison_text(gate, outcome_of_gate, outcome.version.model);
    human += fmt::format("\n  gate {}: {} ({})", printable(gate.expression), passed ? "passed" : "FAILED",
                         comparison);
    if (!passed) failures += fmt::format("{}{}", failures.empty() ? "" : "; ", comparison);
  }
  for (const auto& baseline : outcome.baselines_evaluated) {
    human += fmt::format("\n  evaluated {}'s {} on the same data: {}", printable(baseline.target),
                         subject(baseline.version), metrics_text(baseline.evaluation.metrics));
  }
  state.print(document, human);
  if (!outcome.evaluation.passed) {
    std::cerr << "mlc: error: quality gate failed for " << subject(outcome.version) << ": " << failures
              << "; metrics recorded, state left " << to_string(outcome.version.state) << "\n";
    state.exit_code = exit_code(ErrorKind::gate_failed);
  }
}

}  // namespace

void setup_eval(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command = app.add_subcommand(
      "eval", "Evaluate a version on its test split, or on other data (--data), and record the metrics");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--gate", flags->gates,
                      "Quality gate METRIC OP NUMBER, e.g. 'accuracy>=0.85', or relative to what a target holds, "
                      "METRIC OP @TARGET[+-NUMBER], e.g. 'accuracy>=@production-0.005' (repeatable; exit 3 "
                      "if one fails)");
  command->add_option("--data", flags->data, "Other test data: a CSV file, or IDX images");
  command->add_option("--labels", flags->labels, "IDX labels for --data images");
  command->add_option("--top-k", flags->top_k,
                      "Also record topK_accuracy for this K (classification; default: 5 when the "
                      "model has more than 5 classes)")
      ->check(CLI::Range(1, 1000000));
  command->callback([flags, &state] { run_eval(*flags, state); });
}

}  // namespace mlc::cli
