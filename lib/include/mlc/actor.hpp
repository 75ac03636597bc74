// Who is doing a transition, for the history: $MLC_ACTOR, else the CI system's own variable for
// the user behind the job (GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR,
// BUILD_REQUESTEDFOR for Azure Pipelines), else the login name, else "uid:N".
#pragma once

#include <string>

namespace mlc {

std::string current_actor();

// The machine's host name (gethostname), for the history; "" if it cannot be read.
std::string current_host();

}  // namespace mlc
