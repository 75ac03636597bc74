// Who is doing a transition, for the history: $MLC_ACTOR, else the CI system's own variable for
// the user behind the job (GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR,
// BUILD_REQUESTEDFOR for Azure Pipelines), else the login name, else "uid:N".
#pragma once

#include <string>

namespace mlc {

// The actor goes into the history for good, so a variable's value must be one line of UTF-8:
// throws Error(invalid_input) naming the variable otherwise ("MLC_ACTOR: not valid UTF-8 (byte
// 0xFF at offset 3)", "MLC_ACTOR: control character U+000A at offset 5 is not allowed"). A login
// name comes back with such bytes escaped (printable() in text.hpp).
std::string current_actor();

// The machine's host name (gethostname), for the history, with any control character or invalid
// UTF-8 escaped (printable() in text.hpp); "" if it cannot be read.
std::string current_host();

}  // namespace mlc
