#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

void run_rollback(const RollbackOptions& options, CliState& state) {
  check_text(options.reason, "--reason");
  const DeployOutcome outcome = rollback_target(state.session(), options);
  nlohmann::json document = version_summary_json(outcome.version);
  document["target"] = options.target;
  document["directory"] = outcome.directory.string();
  document["variant"] = outcome.variant ? nlohmann::json(*outcome.variant) : nlohmann::json(nullptr);
  document["replaced"] =
      outcome.replaced ? version_summary_json(*outcome.replaced) : nlohmann::json(nullptr);
  std::string human = fmt::format(
      "{} rolled back to {}{} ({})", options.target, subject(outcome.version),
      outcome.variant ? fmt::format(" (variant {})", *outcome.variant) : std::string(),
      outcome.directory.string());
  if (outcome.replaced) {
    human += fmt::format("\n{} taken off {}, now {}", subject(*outcome.replaced), options.target,
                         to_string(outcome.replaced->state));
  }
  state.print(document, human);
}

}  // namespace

void setup_rollback(CLI::App& app, CliState& state) {
  auto options = std::make_shared<RollbackOptions>();
  CLI::App* command = app.add_subcommand(
      "rollback", "Put back the version a target held before the current one (repeatable)");
  command->add_option("name", options->model, "Model name")->required();
  command->add_option("--target", options->target, "Target name, e.g. production")->required();
  command->add_option("--reason", options->reason, "Why, for the history");
  command->callback([options, &state] { run_rollback(*options, state); });
}

}  // namespace mlc::cli
