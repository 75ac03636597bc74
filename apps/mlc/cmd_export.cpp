#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

struct ExportFlags {
  std::string ref;
  std::optional<std::string> out;
};

void run_export(const ExportFlags& flags, CliState& state) {
  ExportOptions options;
  options.ref = parse_reference(flags.ref);
  if (flags.out) options.out = *flags.out;
  const ExportOutcome outcome = export_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["model_file"] = outcome.model_file.string();
  document["manifest_file"] = outcome.manifest_file.string();
  document["model_sha256"] = *outcome.version.model_sha256;
  document["manifest"] = outcome.manifest;
  state.print(document, fmt::format("{} exported: {} (sha256 {}), {}", subject(outcome.version),
                                    outcome.model_file.string(), *outcome.version.model_sha256,
                                    outcome.manifest_file.string()));
}

}  // namespace

void setup_export(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command = app.add_subcommand("export", "Write a version as TorchScript with its manifest beside it");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--out", flags->out, "Model file to write, or a directory DIR/ for DIR/NAME-vVERSION.pt (default ./NAME-vVERSION.pt); "
                      "the manifest is FILE's name with .manifest.json");
  command->callback([flags, &state] { run_export(*flags, state); });
}

}  // namespace mlc::cli
