// What a parse error means to the person who typed the command line. CLI11 says "A subcommand is
// required" for `mlc lst` and "ref is required" for `mlc show -x:1`; the word at fault says more.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/suggest.hpp"

namespace mlc::cli {
namespace {

// "--epochs", "-q": how an option may be written (a positional has no spelling).
std::vector<std::string> spellings(const CLI::Option& option) {
  std::vector<std::string> names;
  for (const auto& name : option.get_lnames()) names.push_back("--" + name);
  for (const auto& name : option.get_snames()) names.push_back("-" + name);
  return names;
}

std::vector<std::string> option_spellings(const std::vector<const CLI::App*>& scopes) {
  std::vector<std::string> names;
  for (const CLI::App* scope : scopes) {
    for (const CLI::Option* option : scope->get_options()) {
      for (auto& name : spellings(*option)) names.push_back(std::move(name));
    }
  }
  return names;
}

const CLI::Option* find_option(const std::vector<const CLI::App*>& scopes, const std::string& name) {
  for (const CLI::App* scope : scopes) {
    for (const CLI::Option* option : scope->get_options()) {
      for (const auto& spelling : spellings(*option)) {
        if (spelling == name) return option;
      }
    }
  }
  return nullptr;
}

const CLI::App* find_command(const CLI::App& app, const std::string& name,
                             std::vector<std::string>& all_names) {
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->get_name() == name) return command;
    all_names.push_back(command->get_name());
  }
  return nullptr;
}

bool looks_like_reference(const std::string& word) {
  return word.find(':') != std::string::npos || word.find('@') != std::string::npos;
}

}  // namespace

std::string explain_parse_error(const CLI::App& app, const std::vector<std::string>& words,
                                const std::string& parser_message) {
  const CLI::App* command = nullptr;
  std::vector<const CLI::App*> scopes = {&app};  // global options count after the command too
  std::string unknown_option;
  bool value_expected = false;
  for (const auto& word : words) {
    if (word == "--") break;  // the rest are operands
    if (value_expected) {
      value_expected = false;  // the previous option's value, whatever it looks like
      continue;
    }
    if (word.size() > 1 && word[0] == '-') {
      const std::string name = word.substr(0, word.find('='));
      const CLI::Option* option = find_option(scopes, name);
      if (option == nullptr && unknown_option.empty()) unknown_option = word;
      value_expected = option != nullptr && option->get_type_size_max() > 0 && name == word;
      continue;
    }
    if (command != nullptr) continue;  // an operand of the command
    std::vector<std::string> command_names;
    command = find_command(app, word, command_names);
    if (command == nullptr) return fmt::format("unknown command '{}'{}", word, did_you_mean(word, command_names));
    scopes.push_back(command);
  }
  if (unknown_option.empty()) return parser_message;
  const std::string where = command != nullptr ? "mlc " + command->get_name() : "mlc";
  if (command != nullptr && looks_like_reference(unknown_option)) {
    return fmt::format("'{}' is not a reference: it starts with '-', so it reads as an option of "
                       "'{}' (a name that starts with '-' goes after '--': {} -- {})",
                       unknown_option, where, where, unknown_option);
  }
  const std::string name = unknown_option.substr(0, unknown_option.find('='));
  return fmt::format("unknown option '{}' of '{}'{}", name, where, did_you_mean(name, option_spellings(scopes)));
}

}  // namespace mlc::cli
