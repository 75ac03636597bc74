#include <fmt/format.h>

#include "cli.hpp"

namespace mlc::cli {
namespace {

void run_gc(const GcOptions& options, CliState& state) {
  const GcOutcome outcome = collect_garbage(state.session(), options);
  auto removed = nlohmann::json::array();
  std::string human;
  for (const auto& item : outcome.removed) {
    removed.push_back({{"path", item.path.string()}, {"why", item.why}, {"bytes", item.bytes}});
    human += fmt::format("{} {} ({}, {} bytes)\n", options.dry_run ? "would remove" : "removed",
                         item.path.string(), item.why, item.bytes);
  }
  for (const auto& version : outcome.purged_versions) {
    human += fmt::format("{} artifacts of retired {}\n", options.dry_run ? "would purge" : "purged", version);
  }
  human += fmt::format("{} {} files, {} bytes", options.dry_run ? "dry run: would remove" : "removed",
                       outcome.removed.size(), outcome.bytes);
  state.print({{"dry_run", options.dry_run},
               {"removed", removed},
               {"bytes", outcome.bytes},
               {"purged_versions", outcome.purged_versions}},
              human);
}

}  // namespace

void setup_gc(CLI::App& app, CliState& state) {
  auto options = std::make_shared<GcOptions>();
  CLI::App* command = app.add_subcommand("gc", "Delete stored artifacts and leftovers that nothing references");
  command->add_flag("--dry-run", options->dry_run, "Only list what would be deleted");
  command->add_flag("--purge-retired", options->purge_retired,
                    "Also delete the artifacts of retired versions (kept by default)");
  command->add_option("--min-age", options->min_age_seconds,
                      fmt::format("Keep unreferenced and temporary files younger than this many "
                                  "seconds, 0 to {} (default 3600: a running train or export may "
                                  "not have committed them yet)",
                                  kMaxGcMinAgeSeconds));
  command->callback([options, &state] { run_gc(*options, state); });
}

}  // namespace mlc::cli
