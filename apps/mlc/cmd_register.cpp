#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

struct RegisterFlags {
  std::string ref;
  std::string description;
  std::vector<std::string> tags;
};

void run_register(const RegisterFlags& flags, CliState& state) {
  RegisterOptions options;
  options.ref = parse_reference(flags.ref);
  options.description = flags.description;
  for (const auto& tag : flags.tags) options.tags.insert(parse_tag(tag));
  const VersionRecord version = register_version(state.session(), options);
  state.print(version_summary_json(version), subject(version) + " registered");
}

}  // namespace

void setup_register(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<RegisterFlags>();
  CLI::App* command = app.add_subcommand("register", "Register an exported version");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--description", flags->description, "What this version is");
  command->add_option("--tag", flags->tags, "KEY=VALUE (repeatable)");
  command->callback([flags, &state] { run_register(*flags, state); });
}

}  // namespace mlc::cli
