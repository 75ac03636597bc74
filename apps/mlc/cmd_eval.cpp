#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

struct EvalFlags {
  std::string ref;
  std::vector<std::string> gates;
  std::optional<std::string> data;
  std::optional<std::string> labels;
};

void run_eval(const EvalFlags& flags, CliState& state) {
  EvalOptions options;
  options.ref = parse_reference(flags.ref);
  for (const auto& gate : flags.gates) options.gates.push_back(parse_gate(gate));
  if (flags.data) options.data = *flags.data;
  if (flags.labels) options.labels = *flags.labels;
  const EvalOutcome outcome = evaluate_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["metrics"] = outcome.evaluation.metrics;
  document["samples"] = outcome.evaluation.samples;
  document["passed"] = outcome.evaluation.passed;
  document["gates"] = outcome.evaluation.gates;
  document["evaluated_at"] = outcome.evaluation.at;
  document["data_files"] = data_files_json(outcome.evaluation.data_files);
  std::string human = fmt::format("{} {}: {} on {} test samples", subject(outcome.version),
                                  to_string(outcome.version.state),
                                  metrics_text(outcome.evaluation.metrics),
                                  outcome.evaluation.samples);
  for (const auto& gate : outcome.evaluation.gates) {
    human += fmt::format("\n  gate {}: {}", gate.at("expression").get<std::string>(),
                         gate.at("passed").get<bool>() ? "passed" : "FAILED");
  }
  state.print(document, human);
  if (!outcome.evaluation.passed) {
    std::cerr << "mlc: error: quality gate failed for " << subject(outcome.version)
              << "; metrics recorded, state left " << to_string(outcome.version.state) << "\n";
    state.exit_code = exit_code(ErrorKind::gate_failed);
  }
}

}  // namespace

void setup_eval(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command = app.add_subcommand("eval", "Evaluate a version on its test split");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--gate", flags->gates,
                      "Quality gate METRIC OP NUMBER, e.g. 'accuracy>=0.85' (repeatable; exit 3 if one fails)");
  command->add_option("--data", flags->data, "Other test data: a CSV file, or IDX images");
  command->add_option("--labels", flags->labels, "IDX labels for --data images");
  command->callback([flags, &state] { run_eval(*flags, state); });
}

}  // namespace mlc::cli
