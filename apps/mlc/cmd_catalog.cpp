#include <fmt/format.h>

#include "cli.hpp"

namespace mlc::cli {
namespace {

void run_catalog_copy(const std::string& to, CliState& state) {
  const CatalogCopyReport report = copy_catalog(state.session(), to);
  auto tables = nlohmann::json::object();
  int64_t rows = 0;
  for (const auto& [table, count] : report.tables) {
    tables[table] = count;
    rows += count;
  }
  const auto count_of = [&](const std::string& table) { return tables.value(table, int64_t{0}); };
  state.print({{"from", report.from}, {"to", report.to}, {"rows", rows}, {"tables", tables}},
              fmt::format("copied {} rows ({} versions, {} history rows, {} target log rows) from {} to {}", rows,
                          count_of("versions"), count_of("history"), count_of("target_log"), report.from,
                          report.to));
}

}  // namespace

void setup_catalog(CLI::App& app, CliState& state) {
  CLI::App* command = app.add_subcommand("catalog", "Manage the catalogue itself: copy it into a PostgreSQL server");
  command->require_subcommand(1);
  auto to = std::make_shared<std::string>();
  CLI::App* copy = command->add_subcommand(
      "copy", "Copy every row of this catalogue (the SQLite file in the home, or --catalog) into an empty "
              "catalogue, in one transaction; the files stay in the home");
  copy->add_option("--to", *to, "The catalogue to fill: a postgresql:// URL or libpq keyword string")->required();
  copy->callback([to, &state] { run_catalog_copy(*to, state); });
}

}  // namespace mlc::cli
