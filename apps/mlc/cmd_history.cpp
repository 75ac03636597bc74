#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

void run_history(const std::string& ref_text, CliState& state) {
  const Reference ref = parse_reference(ref_text);
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  const auto entries = catalog.history(ref);

  auto rows = nlohmann::json::array();
  std::string human = fmt::format("{:<24}  {:<16}  {:<10}  {:<10}  {:<12}  {}\n", "AT (UTC)", "VERSION",
                                  "FROM", "TO", "ACTOR", "REASON");
  for (const auto& entry : entries) {
    rows.push_back(history_entry_json(entry));
    human += fmt::format("{:<24}  {:<16}  {:<10}  {:<10}  {:<12}  {}\n", entry.at,
                         fmt::format("{}:{}", entry.model, entry.version),
                         entry.from ? to_string(*entry.from) : "-", to_string(entry.to), entry.actor,
                         entry.reason);
  }
  state.print({{"model", ref.model}, {"history", rows}}, human);
}

}  // namespace

void setup_history(CLI::App& app, CliState& state) {
  auto ref = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("history", "Every transition of a model or one version");
  command->add_option("ref", *ref, "NAME (all versions), NAME:VERSION or NAME@TARGET")->required();
  command->callback([ref, &state] { run_history(*ref, state); });
}

}  // namespace mlc::cli
