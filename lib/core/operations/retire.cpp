#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"

namespace mlc {

RetireOutcome retire_version(const Session& session, const RetireOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::read_write);
  RetireOutcome outcome = catalog.in_transaction([&] {
    RetireOutcome result;
    VersionRecord version = catalog.resolve(options.ref);
    const State next = next_state(Action::retire, version.state, detail::subject(version), options.force);
    std::string reason = options.reason.empty() ? "retired" : options.reason;
    if (!version.targets.empty()) {
      for (const auto& target : version.targets) catalog.remove_deployment(version.model_id, target);
      reason += fmt::format(" (forced: taken off {})", fmt::join(version.targets, ", "));
      result.removed_from = version.targets;
    }
    catalog.record_transition(version, next,
                              detail::note_for(session, reason, fmt::format("{}", fmt::join(version.targets, ","))));
    version.state = next;
    version.targets.clear();
    result.version = std::move(version);
    return result;
  });
  // After the commit: the catalogue no longer points at these directories. A crash in between
  // leaves a directory the catalogue does not know, never the reverse.
  const Deployer deployer(session.home.deployments_dir());
  for (const auto& target : outcome.removed_from) deployer.remove(target, outcome.version.model);
  return outcome;
}

}  // namespace mlc
