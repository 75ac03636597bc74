#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct RetireFlags {
  std::string ref;
  std::string reason;
  bool force = false;
  bool rollback = false;
};

void run_retire(const RetireFlags& flags, CliState& state) {
  check_text(flags.reason, "--reason");
  RetireOptions options;
  options.ref = parse_reference(flags.ref);
  options.reason = flags.reason;
  options.force = flags.force ? Force::yes : Force::no;
  options.rollback = flags.rollback ? Rollback::yes : Rollback::no;
  const RetireOutcome outcome = retire_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["removed_from"] = outcome.removed_from;
  document["emptied"] = outcome.emptied;
  document["rolled_back"] = nlohmann::json::array();
  std::string human = subject(outcome.version) + " retired";
  if (!outcome.removed_from.empty()) {
    human += fmt::format(" and taken off {}", fmt::join(outcome.removed_from, ", "));
  }
  for (const auto& put_back : outcome.rolled_back) {
    document["rolled_back"].push_back(
        {{"target", put_back.target}, {"version", version_summary_json(put_back.version)}});
    human += fmt::format("\n{} rolled back to {}", put_back.target, subject(put_back.version));
  }
  for (const auto& target : outcome.emptied) {
    human += flags.rollback
                 ? fmt::format("\n{} now holds no version of {}: it held no earlier version that is "
                               "not retired",
                               target, outcome.version.model)
                 : fmt::format("\n{} now holds no version of {} (mlc rollback {} --target {} puts "
                               "back the one it held before, if any)",
                               target, outcome.version.model, outcome.version.model, target);
  }
  state.print(document, human);
}

}  // namespace

void setup_retire(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<RetireFlags>();
  CLI::App* command = app.add_subcommand("retire", "Retire a version for good");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--reason", flags->reason, "Why, for the history");
  command->add_flag("--force", flags->force, "Also take a deployed version off its targets");
  command->add_flag("--rollback", flags->rollback,
                    "With --force: put back on each of those targets the version it held before");
  command->callback([flags, &state] { run_retire(*flags, state); });
}

}  // namespace mlc::cli
