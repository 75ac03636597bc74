#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct RegisterFlags {
  std::optional<std::string> ref;
  std::optional<std::string> artifact;
  std::optional<std::string> name;
  std::optional<std::string> manifest;
  std::string description;
  std::vector<std::string> tags;
};

void run_register_artifact(const RegisterFlags& flags, CliState& state) {
  if (flags.ref) throw Error(ErrorKind::usage, "register: give either REF or --artifact FILE, not both");
  if (!flags.name) throw Error(ErrorKind::usage, "register --artifact needs --name NAME");
  // The version's lineage and manifest record both file names as JSON, which holds only UTF-8.
  check_utf8(std::filesystem::absolute(*flags.artifact).string(), "--artifact");
  if (flags.manifest) check_utf8(std::filesystem::absolute(*flags.manifest).string(), "--manifest");
  RegisterArtifactOptions options;
  options.artifact = *flags.artifact;
  options.model_name = *flags.name;
  if (flags.manifest) options.manifest = *flags.manifest;
  options.description = flags.description;
  for (const auto& tag : flags.tags) options.tags.insert(parse_tag(tag));
  const RegisterArtifactOutcome outcome = register_artifact(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["origin"] = to_string(outcome.version.origin);
  document["model_sha256"] = *outcome.version.model_sha256;
  document["manifest_sha256"] = *outcome.version.manifest_sha256;
  document["manifest"] = outcome.manifest;
  state.print(document, fmt::format("{} registered from {} (sha256 {}); forward: {}", subject(outcome.version),
                                    *flags.artifact, *outcome.version.model_sha256,
                                    outcome.inspection.forward_schema));
}

void run_register(const RegisterFlags& flags, CliState& state) {
  check_text(flags.description, "--description");
  if (flags.artifact) return run_register_artifact(flags, state);
  if (!flags.ref) throw Error(ErrorKind::usage, "register: give REF (a version mlc exported) or --artifact FILE");
  if (flags.name || flags.manifest) {
    throw Error(ErrorKind::usage, "register: --name and --manifest go with --artifact");
  }
  RegisterOptions options;
  options.ref = parse_reference(*flags.ref);
  options.description = flags.description;
  for (const auto& tag : flags.tags) options.tags.insert(parse_tag(tag));
  const RegisterOutcome outcome = register_version(state.session(), options);
  nlohmann::json document = version_summary_json(outcome.version);
  document["changed"] = outcome.changed;
  state.print(document, outcome.changed ? subject(outcome.version) + " registered"
                                        : fmt::format("{} is already registered{}; nothing changed",
                                                      subject(outcome.version),
                                                      outcome.version.state == State::deployed
                                                          ? " (deployed)"
                                                          : ""));
}

}  // namespace

void setup_register(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<RegisterFlags>();
  CLI::App* command = app.add_subcommand(
      "register", "Register an exported version, or a TorchScript file trained elsewhere (--artifact)");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET/ALIAS");
  command->add_option("--artifact", flags->artifact, "A TorchScript file to register as a new version");
  command->add_option("--name", flags->name, "With --artifact: the model it becomes a version of");
  command->add_option("--manifest", flags->manifest,
                      "With --artifact: JSON describing it (schemas/artifact-manifest.schema.json)");
  command->add_option("--description", flags->description, "What this version is");
  command->add_option("--tag", flags->tags, "KEY=VALUE (repeatable)");
  command->callback([flags, &state] { run_register(*flags, state); });
}

}  // namespace mlc::cli
