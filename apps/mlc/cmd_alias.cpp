#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct AliasFlags {
  std::string model;
  std::string alias;
  std::optional<int64_t> version;
  bool remove = false;
  std::string reason;
};

nlohmann::json optional_summary(const std::optional<VersionRecord>& version) {
  return version ? version_summary_json(*version) : nlohmann::json(nullptr);
}

void run_alias(const AliasFlags& flags, CliState& state) {
  if (flags.remove == flags.version.has_value()) {
    throw Error(ErrorKind::usage, "alias: give either VERSION (to set it) or --remove");
  }
  check_text(flags.reason, "--reason");
  AliasOptions options{flags.model, flags.alias, flags.version, flags.reason};
  const AliasOutcome outcome = set_alias(state.session(), options);
  const nlohmann::json document = {{"model", outcome.model},
                                   {"alias", outcome.alias},
                                   {"version", optional_summary(outcome.version)},
                                   {"previous", optional_summary(outcome.previous)},
                                   {"changed", outcome.changed}};
  std::string human;
  if (!outcome.version) {
    human = fmt::format("{}@{} removed (it named {})", outcome.model, outcome.alias, subject(*outcome.previous));
  } else if (!outcome.changed) {
    human = fmt::format("{}@{} already names {}; nothing changed", outcome.model, outcome.alias,
                        subject(*outcome.version));
  } else {
    human = fmt::format("{}@{} -> {}", outcome.model, outcome.alias, subject(*outcome.version));
    if (outcome.previous) human += fmt::format(" (was {})", subject(*outcome.previous));
  }
  state.print(document, human);
}

}  // namespace

void setup_alias(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<AliasFlags>();
  CLI::App* command = app.add_subcommand(
      "alias", "Point NAME@ALIAS at a version, or remove the alias (--remove)");
  command->add_option("name", flags->model, "Model name")->required();
  command->add_option("alias", flags->alias, "Alias, e.g. champion ([A-Za-z0-9._-])")->required();
  command->add_option("version", flags->version, "Version number it names")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  command->add_flag("--remove", flags->remove, "Remove the alias");
  command->add_option("--reason", flags->reason, "Why, for the history");
  command->callback([flags, &state] { run_alias(*flags, state); });
}

}  // namespace mlc::cli
