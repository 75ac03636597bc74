#include <limits>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"
#include "mlc/text_table.hpp"

namespace mlc::cli {
namespace {

struct HistoryFlags {
  std::string ref;
  std::optional<std::string> target;
  std::optional<std::string> at;
  std::optional<int64_t> limit;
};

std::string version_text(const std::string& model, const std::optional<int64_t>& version) {
  if (!version) return "(none)";
  // Formatted from a plain copy: g++ 12 -O3 warns (wrongly) that the optional's value may be
  // uninitialized when fmt reads it in place.
  const int64_t number = version.value_or(0);
  return model + ":" + std::to_string(number);
}

// What a change left on the target: "NAME:VERSION", "NAME:VERSION (int8)" for a variant, "(none)".
std::string held_text(const std::string& model, const TargetChange& change) {
  std::string text = version_text(model, change.version);
  if (change.version && change.variant) text += " (" + printable(*change.variant) + ")";
  return text;
}

// history NAME --target T [--at TIME]: what T held, change by change, and at TIME.
void run_target_history(const HistoryFlags& flags, CliState& state) {
  TargetHistoryOptions options;
  options.ref = parse_reference(flags.ref);
  options.target = *flags.target;
  if (flags.at) options.at = parse_utc_time(*flags.at, "--at");
  options.limit = flags.limit;
  const TargetHistory history = target_history(state.session(), options);
  const std::string& model = options.ref.model;

  nlohmann::json document = {{"model", model}, {"target", options.target}};
  auto changes = nlohmann::json::array();
  TextTable table({"AT (UTC)", "CHANGE", "HOLDS", "ACTOR", "REASON"});
  for (const auto& change : history.changes) {
    changes.push_back(target_change_json(change));
    table.add_row({change.at, std::string(to_string(change.kind)), held_text(model, change),
                   printable(change.actor), printable(change.reason)});
  }
  document["changes"] = changes;
  std::string human = table.render();
  if (options.at) {
    // Before the first change the target held nothing; "since" is when what it held arrived.
    const auto& then = history.held_at;
    const nlohmann::json held =
        then ? target_change_json(*then) : nlohmann::json{{"version", nullptr}, {"variant", nullptr}};
    document["at"] = *options.at;
    document["version"] = held["version"];
    document["variant"] = held["variant"];
    document["since"] = then ? nlohmann::json(then->at) : nlohmann::json(nullptr);
    human = then ? fmt::format("{} held {} at {} (since {}, {} by {}: {})", options.target,
                               held_text(model, *then), *options.at, then->at, to_string(then->kind),
                               printable(then->actor), printable(then->reason))
                 : fmt::format("{} held no version of {} at {} (first change: {})", options.target, model,
                               *options.at, history.first_change_at);
  }
  state.print(document, human);
}

void run_history(const HistoryFlags& flags, CliState& state) {
  if (flags.target) return run_target_history(flags, state);
  if (flags.at) throw Error(ErrorKind::usage, "history --at needs --target TARGET");
  const Reference ref = parse_reference(flags.ref);
  const auto entries = version_history(state.session(), ref, flags.limit);

  auto rows = nlohmann::json::array();
  TextTable table({"AT (UTC)", "VERSION", "FROM", "TO", "ACTOR", "REASON"});
  for (const auto& entry : entries) {
    rows.push_back(history_entry_json(entry));
    const std::string to = entry.event == Event::transition ? std::string(to_string(entry.to))
                                                            : std::string(to_string(entry.event));
    table.add_row({entry.at, fmt::format("{}:{}", entry.model, entry.version),
                   entry.event != Event::transition ? "" : entry.from ? std::string(to_string(*entry.from)) : "-",
                   to, printable(entry.actor), printable(entry.reason)});
  }
  state.print({{"model", ref.model}, {"history", rows}}, table.render());
}

}  // namespace

void setup_history(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<HistoryFlags>();
  CLI::App* command = app.add_subcommand(
      "history", "Every transition and change of a model or one version, or what a target held when");
  command->add_option("ref", flags->ref, "NAME (all versions), NAME:VERSION or NAME@TARGET/ALIAS")->required();
  command->add_option("--target", flags->target, "Every change of what TARGET held for model NAME");
  command->add_option("--at", flags->at, "With --target: the version it held at this time (ISO 8601, e.g. 2026-11-01T12:00:00Z)");
  command->add_option("--limit", flags->limit, "Only the N newest rows (still printed oldest first)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  command->callback([flags, &state] { run_history(*flags, state); });
}

}  // namespace mlc::cli
