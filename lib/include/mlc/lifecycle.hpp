// The life of a model version: its states and the rules for moving between them. This is the one
// place those rules live; the catalogue records transitions, it does not decide them.
//
//   trained --eval--> evaluated --export--> exported --register--> registered --deploy--> deployed
//   any state but retired --retire--> retired (final; retiring a deployed version needs force)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mlc {

enum class State { trained, evaluated, exported, registered, deployed, retired };

std::string_view to_string(State state);
// Throws Error(usage) listing the valid states.
State parse_state(std::string_view text);

enum class Action { evaluate, export_model, register_model, deploy, retire };

std::string_view to_string(Action action);

enum class Force { no, yes };

// The state a version in `from` moves to when `action` is done on it. Equal to `from` when the
// action is allowed but does not advance the life (re-evaluating a registered version, exporting
// an already exported one, registering a registered or deployed one, deploying a deployed version
// to another target).
// Throws Error(refused) naming `subject` (e.g. "fmnist:3"), its state and what would be needed.
State next_state(Action action, State from, std::string_view subject, Force force = Force::no);

}  // namespace mlc
