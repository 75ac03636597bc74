#include <fmt/format.h>

#include "cli.hpp"

namespace mlc::cli {
namespace {

struct CardFlags {
  std::string ref;
  std::optional<std::string> out;
};

void run_card(const CardFlags& flags, CliState& state) {
  CardOptions options;
  options.ref = parse_reference(flags.ref);
  if (flags.out) options.out = *flags.out;
  const CardOutcome outcome = write_card(state.session(), options);
  const nlohmann::json document = {{"model", outcome.version.model},
                                   {"version", outcome.version.version},
                                   {"html", outcome.html_file.string()},
                                   {"markdown", outcome.markdown_file.string()}};
  state.print(document, fmt::format("{} card: {} and {}", subject(outcome.version), outcome.html_file.string(),
                                    outcome.markdown_file.string()));
}

}  // namespace

void setup_card(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<CardFlags>();
  CLI::App* command = app.add_subcommand(
      "card", "Write a version's model card: card.html (charts inline, self-contained) and card.md");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET/ALIAS")->required();
  command->add_option("--out", flags->out, "Directory to write into (default ./NAME-vVERSION-card)");
  command->callback([flags, &state] { run_card(*flags, state); });
}

}  // namespace mlc::cli
