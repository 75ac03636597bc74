#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct DeployFlags {
  std::string ref;
  std::string target;
  std::string reason;
  std::string variant;
};

void run_deploy(const DeployFlags& flags, CliState& state) {
  check_text(flags.reason, "--reason");
  DeployOptions options;
  options.ref = parse_reference(flags.ref);
  options.target = flags.target;
  options.reason = flags.reason;
  if (!flags.variant.empty()) options.variant = flags.variant;
  const DeployOutcome outcome = deploy_version(state.session(), options);
  const std::string what = outcome.variant
                               ? fmt::format("{} (variant {})", subject(outcome.version), *outcome.variant)
                               : subject(outcome.version);

  nlohmann::json document = version_summary_json(outcome.version);
  document["target"] = flags.target;
  document["directory"] = outcome.directory.string();
  document["changed"] = outcome.changed;
  document["variant"] = outcome.variant ? nlohmann::json(*outcome.variant) : nlohmann::json(nullptr);
  document["replaced"] =
      outcome.replaced ? version_summary_json(*outcome.replaced) : nlohmann::json(nullptr);
  std::string human = outcome.changed
                          ? fmt::format("{} deployed to {} ({})", what, flags.target,
                                        outcome.directory.string())
                          : fmt::format("{} is already deployed to {}; nothing changed", what,
                                        flags.target);
  if (outcome.replaced) {
    human += fmt::format("\n{} replaced, now {}", subject(*outcome.replaced),
                         to_string(outcome.replaced->state));
  }
  state.print(document, human);
}

}  // namespace

void setup_deploy(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* command = app.add_subcommand("deploy", "Deploy a registered version to a target");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--target", flags->target, "Target name, e.g. staging or production")->required();
  command->add_option("--reason", flags->reason, "Why, for the history");
  command->add_option("--variant", flags->variant,
                      "Place this variant of the version (mlc export --variant) instead of its fp32 export");
  command->callback([flags, &state] { run_deploy(*flags, state); });
}

}  // namespace mlc::cli
