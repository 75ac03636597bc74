#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"

namespace mlc {

RetireOutcome retire_version(const Session& session, const RetireOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  const Deployer deployer(session.home.deployments_dir());

  // The directories are taken down under the transaction's lock (so no deploy of another version
  // can land in between) and put back if it fails; declared after it, they are undone first.
  Catalog::Transaction transaction(catalog);
  std::vector<Deployer::Swap> taken_down;

  RetireOutcome outcome;
  VersionRecord version = catalog.resolve(options.ref);
  const State next = next_state(Action::retire, version.state, detail::subject(version), options.force);
  std::string reason = options.reason.empty() ? "retired" : options.reason;
  if (!version.targets.empty()) {
    for (const auto& target : version.targets) {
      detail::recover_deployment(session, catalog, target, version.model);
      catalog.remove_deployment(version.model_id, target,
                                detail::note_for(session, "retired " + detail::subject(version), target));
      taken_down.push_back(deployer.take_down(target, version.model));
    }
    reason += fmt::format(" (forced: taken off {})", fmt::join(version.targets, ", "));
    outcome.removed_from = version.targets;
  }
  catalog.record_transition(version, next,
                            detail::note_for(session, reason, fmt::format("{}", fmt::join(version.targets, ","))));
  transaction.commit();
  for (auto& removal : taken_down) removal.commit();

  version.state = next;
  version.targets.clear();
  outcome.version = std::move(version);
  return outcome;
}

}  // namespace mlc
