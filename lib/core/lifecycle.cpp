#include "mlc/lifecycle.hpp"

#include <array>
#include <utility>

#include "mlc/error.hpp"

namespace mlc {
namespace {

constexpr std::array<std::pair<State, std::string_view>, 6> kStateNames = {{
    {State::trained, "trained"},
    {State::evaluated, "evaluated"},
    {State::exported, "exported"},
    {State::registered, "registered"},
    {State::deployed, "deployed"},
    {State::retired, "retired"},
}};

Error refusal(Action action, State from, std::string_view subject, std::string_view needed) {
  return Error(ErrorKind::refused, "cannot " + std::string(to_string(action)) + " " +
                                       std::string(subject) + ": it is " +
                                       std::string(to_string(from)) + "; " + std::string(needed));
}

}  // namespace

std::string_view to_string(State state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

State parse_state(std::string_view text) {
  for (const auto& [value, name] : kStateNames) {
    if (name == text) return value;
  }
  throw Error(ErrorKind::usage,
              "unknown state '" + std::string(text) +
                  "' (expected trained, evaluated, exported, registered, deployed or retired)");
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::evaluate: return "evaluate";
    case Action::export_model: return "export";
    case Action::register_model: return "register";
    case Action::deploy: return "deploy";
    case Action::retire: return "retire";
  }
  return "unknown";
}

State next_state(Action action, State from, std::string_view subject, Force force) {
  if (from == State::retired) {
    throw refusal(action, from, subject, "a retired version is final and can never be used again");
  }
  switch (action) {
    case Action::evaluate:
      return from == State::trained ? State::evaluated : from;
    case Action::export_model:
      if (from == State::trained) {
        throw refusal(action, from, subject, "only an evaluated version can be exported (run mlc eval first)");
      }
      return from == State::evaluated ? State::exported : from;
    case Action::register_model:
      if (from == State::exported) return State::registered;
      // Registering again changes nothing, so that a pipeline can be run twice.
      if (from == State::registered || from == State::deployed) return from;
      throw refusal(action, from, subject, "only an exported version can be registered (run mlc export first)");
    case Action::deploy:
      if (from == State::registered || from == State::deployed) return State::deployed;
      throw refusal(action, from, subject, "only a registered version can be deployed (run mlc register first)");
    case Action::retire:
      if (from == State::deployed && force == Force::no) {
        throw refusal(action, from, subject, "use --force to take it off its targets and retire it");
      }
      return State::retired;
  }
  throw Error(ErrorKind::internal, "unknown action");
}

}  // namespace mlc
