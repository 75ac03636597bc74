#include <cstddef>
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

// The newest `limit` rows, still oldest first.
template <class Row>
std::vector<Row> newest(std::vector<Row> rows, const std::optional<int64_t>& limit) {
  if (limit && static_cast<size_t>(*limit) < rows.size()) {
    rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(*limit));
  }
  return rows;
}

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
  const Reference ref = parse_reference(flags.ref);
  if (ref.kind != Reference::Kind::latest) {
    throw Error(ErrorKind::usage, "history --target takes a model NAME, not '" + flags.ref + "'");
  }
  check_name(*flags.target, "target");
  const std::optional<std::string> at =
      flags.at ? std::optional<std::string>(parse_utc_time(*flags.at, "--at")) : std::nullopt;
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  const auto model_id = catalog.model_id(ref.model);
  if (!model_id) throw Error(ErrorKind::not_found, "no model named '" + ref.model + "'");
  const auto full_log = catalog.target_log(*model_id, *flags.target);
  if (full_log.empty()) {
    throw Error(ErrorKind::not_found,
                fmt::format("model '{}' was never deployed to '{}'", ref.model, *flags.target));
  }

  nlohmann::json document = {{"model", ref.model}, {"target", *flags.target}};
  auto changes = nlohmann::json::array();
  TextTable table({"AT (UTC)", "CHANGE", "HOLDS", "ACTOR", "REASON"});
  for (const auto& change : newest(full_log, flags.limit)) {
    changes.push_back(target_change_json(change));
    table.add_row({change.at, std::string(to_string(change.kind)), held_text(ref.model, change),
                   printable(change.actor), printable(change.reason)});
  }
  document["changes"] = changes;
  std::string human = table.render();
  const TargetChange* then = nullptr;  // --at looks at every change, whatever --limit shows
  for (const auto& change : full_log) {
    if (at && change.at <= *at) then = &change;
  }
  if (at) {
    // Before the first change the target held nothing; "since" is when what it held arrived.
    const nlohmann::json held =
        then ? target_change_json(*then) : nlohmann::json{{"version", nullptr}, {"variant", nullptr}};
    document["at"] = *at;
    document["version"] = held["version"];
    document["variant"] = held["variant"];
    document["since"] = then ? nlohmann::json(then->at) : nlohmann::json(nullptr);
    human = then ? fmt::format("{} held {} at {} (since {}, {} by {}: {})", *flags.target,
                               held_text(ref.model, *then), *at, then->at, to_string(then->kind),
                               printable(then->actor), printable(then->reason))
                 : fmt::format("{} held no version of {} at {} (first change: {})", *flags.target,
                               ref.model, *at, full_log.front().at);
  }
  state.print(document, human);
}

void run_history(const HistoryFlags& flags, CliState& state) {
  if (flags.target) return run_target_history(flags, state);
  if (flags.at) throw Error(ErrorKind::usage, "history --at needs --target TARGET");
  const Reference ref = parse_reference(flags.ref);
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  const auto entries = newest(catalog.history(ref), flags.limit);

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
