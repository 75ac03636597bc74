#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct EditFlags {
  std::string ref;
  std::optional<std::string> description;
  std::vector<std::string> tags;
  std::vector<std::string> untags;
  std::string reason;
};

void run_edit(const EditFlags& flags, CliState& state) {
  if (flags.description) check_text(*flags.description, "--description");
  for (const auto& key : flags.untags) check_text(key, "--untag");
  check_text(flags.reason, "--reason");
  EditOptions options;
  options.ref = parse_reference(flags.ref);
  options.description = flags.description;
  for (const auto& tag : flags.tags) options.set_tags.insert(parse_tag(tag));
  options.remove_tags = flags.untags;
  options.reason = flags.reason;
  const EditOutcome outcome = edit_version(state.session(), options);
  nlohmann::json document = version_summary_json(outcome.version);
  document["changed"] = outcome.changed;
  document["changes"] = outcome.changes;
  state.print(document, outcome.changed ? subject(outcome.version) + " edited"
                                        : subject(outcome.version) + ": nothing changed");
}

}  // namespace

void setup_edit(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<EditFlags>();
  CLI::App* command = app.add_subcommand("edit", "Change a version's description and tags");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET/ALIAS")->required();
  command->add_option("--description", flags->description, "The new description");
  command->add_option("--tag", flags->tags, "KEY=VALUE to set (repeatable)");
  command->add_option("--untag", flags->untags, "KEY to remove (repeatable)");
  command->add_option("--reason", flags->reason, "Why, for the history");
  command->callback([flags, &state] { run_edit(*flags, state); });
}

}  // namespace mlc::cli
