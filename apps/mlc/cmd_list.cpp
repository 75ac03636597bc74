#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/reference.hpp"

namespace mlc::cli {
namespace {

struct ListFlags {
  std::optional<std::string> model;
  std::optional<std::string> state;
};

void run_list(const ListFlags& flags, CliState& state) {
  if (flags.model) check_name(*flags.model, "model name");
  const std::optional<State> wanted =
      flags.state ? std::optional<State>(parse_state(*flags.state)) : std::nullopt;
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  if (flags.model && !catalog.model_id(*flags.model)) {
    throw Error(ErrorKind::not_found, "no model named '" + *flags.model + "'");
  }
  const auto versions = catalog.list(flags.model, wanted);

  auto rows = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:>7}  {:<10}  {:<24}  {}\n", "MODEL", "VERSION",
                                  "STATE", "CREATED", "TARGETS");
  for (const auto& version : versions) {
    rows.push_back(version_summary_json(version));
    human += fmt::format("{:<24} {:>7}  {:<10}  {:<24}  {}\n", version.model, version.version,
                         to_string(version.state), version.created_at,
                         fmt::join(version.targets, ","));
  }
  state.print({{"versions", rows}}, versions.empty() ? "no versions" : human);
}

}  // namespace

void setup_list(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* command = app.add_subcommand("list", "List model versions");
  command->add_option("name", flags->model, "Only this model");
  command->add_option("--state", flags->state, "Only versions in this state");
  command->callback([flags, &state] { run_list(*flags, state); });
}

}  // namespace mlc::cli
