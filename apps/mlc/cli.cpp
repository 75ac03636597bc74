#include "cli.hpp"

#include <unistd.h>

#include <array>
#include <iostream>

#include <fmt/format.h>

#include "mlc/actor.hpp"
#include "mlc/error.hpp"

namespace mlc::cli {
namespace {

constexpr std::array<Command, 15> kCommands = {{
    {"train", setup_train},
    {"eval", setup_eval},
    {"export", setup_export},
    {"predict", setup_predict},
    {"register", setup_register},
    {"deploy", setup_deploy},
    {"retire", setup_retire},
    {"list", setup_list},
    {"show", setup_show},
    {"history", setup_history},
    {"rollback", setup_rollback},
    {"alias", setup_alias},
    {"edit", setup_edit},
    {"verify", setup_verify},
    {"gc", setup_gc},
}};

std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789._-/:=@,+%") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string join_command_line(int argc, char** argv) {
  std::string line = "mlc";
  for (int i = 1; i < argc; ++i) line += " " + shell_quoted(argv[i]);
  return line;
}

void print_error(const std::string& message) { std::cerr << "mlc: error: " << message << "\n"; }

}  // namespace

Session CliState::session() const {
  return Session{resolve_home(global.home), current_actor(), command_line, current_host()};
}

void CliState::print(const nlohmann::json& document, const std::string& human) const {
  if (global.json) {
    std::cout << document.dump(2) << "\n";
  } else if (!human.empty()) {
    std::cout << human << (human.back() == '\n' ? "" : "\n");
  }
}

void CliState::progress(const std::string& line) const {
  if (!global.quiet && !global.json) std::cerr << line << "\n";
}

std::string subject(const VersionRecord& version) {
  return fmt::format("{}:{}", version.model, version.version);
}

int run(int argc, char** argv) {
  CliState state;
  state.command_line = join_command_line(argc, argv);

  CLI::App app{"mlc: train, evaluate, export, register, deploy and retire neural-network models, "
               "with every version recorded in a catalogue"};
  app.name("mlc");
  app.set_version_flag("--version", mlc_version());
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the subcommand too
  app.add_option("--home", state.global.home,
                 "Directory of the catalogue and artifacts (default: $MLC_HOME, else ./.mlc)");
  app.add_flag("--json", state.global.json, "Print one JSON document on stdout");
  app.add_flag("-q,--quiet", state.global.quiet, "No progress on stderr");
  for (const auto& command : kCommands) command.setup(app, state);

  try {
    app.parse(argc, argv);
    return state.exit_code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    return exit_code(ErrorKind::usage);
  } catch (const Error& e) {
    print_error(e.what());
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
    return exit_code(ErrorKind::internal);
  }
}

}  // namespace mlc::cli
