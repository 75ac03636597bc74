// mlc's command line: global options, the table of subcommands, and the one place errors are
// printed. Each subcommand lives in its own cmd_*.cpp: it maps its flags onto the library's
// options struct, calls the library, and prints the outcome.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlc/operations.hpp"

namespace mlc::cli {

struct GlobalOptions {
  std::optional<std::string> home;  // --home; else $MLC_HOME; else ./.mlc
  std::optional<std::string> catalog;  // --catalog; else $MLC_CATALOG; else the SQLite file in home
  bool json = false;                // --json: one JSON document on stdout
  bool quiet = false;               // --quiet: no progress on stderr
};

// Shared by every subcommand while the process runs.
struct CliState {
  GlobalOptions global;
  std::string command_line;
  int exit_code = 0;

  Session session() const;
  // Prints `document` (with --json) or `human` (without) on stdout.
  void print(const nlohmann::json& document, const std::string& human) const;
  // Progress and notes for people, on stderr; silent with --quiet or --json.
  void progress(const std::string& line) const;
};

// Each subcommand adds itself to the app; its callback runs the command.
using CommandSetup = void (*)(CLI::App& app, CliState& state);
struct Command {
  const char* name;
  CommandSetup setup;
};

void setup_train(CLI::App& app, CliState& state);
void setup_eval(CLI::App& app, CliState& state);
void setup_compare(CLI::App& app, CliState& state);
void setup_export(CLI::App& app, CliState& state);
void setup_predict(CLI::App& app, CliState& state);
void setup_register(CLI::App& app, CliState& state);
void setup_deploy(CLI::App& app, CliState& state);
void setup_retire(CLI::App& app, CliState& state);
void setup_list(CLI::App& app, CliState& state);
void setup_show(CLI::App& app, CliState& state);
void setup_history(CLI::App& app, CliState& state);
void setup_rollback(CLI::App& app, CliState& state);
void setup_alias(CLI::App& app, CliState& state);
void setup_edit(CLI::App& app, CliState& state);
void setup_card(CLI::App& app, CliState& state);
void setup_verify(CLI::App& app, CliState& state);
void setup_gc(CLI::App& app, CliState& state);
void setup_catalog(CLI::App& app, CliState& state);
void setup_serve(CLI::App& app, CliState& state);

// Parses argv, runs the chosen subcommand, prints any error once and returns the exit code.
int run(int argc, char** argv);

// CLI11's `parser_message` about `words` (argv without argv[0]) said by the word at fault when
// there is one: "unknown command 'lst'; did you mean 'list'?", "unknown option '--epoch' of 'mlc
// train'; did you mean '--epochs'?", "'-x:1' is not a reference: it starts with '-', ...";
// else `parser_message` itself. Suggestions by nearest_name (mlc/suggest.hpp).
std::string explain_parse_error(const CLI::App& app, const std::vector<std::string>& words,
                                const std::string& parser_message);

// "fmnist:3"
std::string subject(const VersionRecord& version);

// A variant as export and show print it: "int8 (int8): 11.2 KiB (fp32 40.1 KiB); accuracy 0.9722
// (fp32 0.9722, +0.0000) on 36 test samples; latency per sample, one thread: ...".
std::string variant_text(const VariantRecord& variant);

}  // namespace mlc::cli
