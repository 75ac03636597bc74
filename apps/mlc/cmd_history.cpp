#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct HistoryFlags {
  std::string ref;
  std::optional<std::string> target;
  std::optional<std::string> at;
};

std::string version_text(const std::string& model, const std::optional<int64_t>& version) {
  if (!version) return "(none)";
  // Formatted from a plain copy: g++ 12 -O3 warns (wrongly) that the optional's value may be
  // uninitialized when fmt reads it in place.
  const int64_t number = version.value_or(0);
  return model + ":" + std::to_string(number);
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
  const auto log = catalog.target_log(*model_id, *flags.target);
  if (log.empty()) {
    throw Error(ErrorKind::not_found,
                fmt::format("model '{}' was never deployed to '{}'", ref.model, *flags.target));
  }

  nlohmann::json document = {{"model", ref.model}, {"target", *flags.target}};
  auto changes = nlohmann::json::array();
  std::string human = fmt::format("{:<24}  {:<8}  {:<16}  {:<12}  {}\n", "AT (UTC)", "CHANGE", "HOLDS",
                                  "ACTOR", "REASON");
  const TargetChange* then = nullptr;
  for (const auto& change : log) {
    changes.push_back(target_change_json(change));
    human += fmt::format("{:<24}  {:<8}  {:<16}  {:<12}  {}\n", change.at, to_string(change.kind),
                         version_text(ref.model, change.version), printable(change.actor),
                         printable(change.reason));
    if (at && change.at <= *at) then = &change;
  }
  document["changes"] = changes;
  if (at) {
    // Before the first change the target held nothing; "since" is when what it held arrived.
    const std::optional<int64_t> held = then ? then->version : std::nullopt;
    document["at"] = *at;
    document["version"] = held ? nlohmann::json(*held) : nlohmann::json(nullptr);
    document["since"] = then ? nlohmann::json(then->at) : nlohmann::json(nullptr);
    human = then ? fmt::format("{} held {} at {} (since {}, {} by {}: {})", *flags.target,
                               version_text(ref.model, held), *at, then->at, to_string(then->kind),
                               printable(then->actor), printable(then->reason))
                 : fmt::format("{} held no version of {} at {} (first change: {})", *flags.target,
                               ref.model, *at, log.front().at);
  }
  state.print(document, human);
}

void run_history(const HistoryFlags& flags, CliState& state) {
  if (flags.target) return run_target_history(flags, state);
  if (flags.at) throw Error(ErrorKind::usage, "history --at needs --target TARGET");
  const Reference ref = parse_reference(flags.ref);
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  const auto entries = catalog.history(ref);

  auto rows = nlohmann::json::array();
  std::string human = fmt::format("{:<24}  {:<16}  {:<10}  {:<10}  {:<12}  {}\n", "AT (UTC)", "VERSION",
                                  "FROM", "TO", "ACTOR", "REASON");
  for (const auto& entry : entries) {
    rows.push_back(history_entry_json(entry));
    const std::string to = entry.event == Event::transition ? std::string(to_string(entry.to))
                                                            : std::string(to_string(entry.event));
    human += fmt::format("{:<24}  {:<16}  {:<10}  {:<10}  {:<12}  {}\n", entry.at,
                         fmt::format("{}:{}", entry.model, entry.version),
                         entry.event != Event::transition ? "" : entry.from ? to_string(*entry.from) : "-",
                         to, printable(entry.actor), printable(entry.reason));
  }
  state.print({{"model", ref.model}, {"history", rows}}, human);
}

}  // namespace

void setup_history(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<HistoryFlags>();
  CLI::App* command = app.add_subcommand(
      "history", "Every transition and change of a model or one version, or what a target held when");
  command->add_option("ref", flags->ref, "NAME (all versions), NAME:VERSION or NAME@TARGET/ALIAS")->required();
  command->add_option("--target", flags->target, "Every change of what TARGET held for model NAME");
  command->add_option("--at", flags->at, "With --target: the version it held at this time (ISO 8601, e.g. 2026-11-01T12:00:00Z)");
  command->callback([flags, &state] { run_history(*flags, state); });
}

}  // namespace mlc::cli
