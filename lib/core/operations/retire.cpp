#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"

namespace mlc {

RetireOutcome retire_version(const Session& session, const RetireOptions& options) {
  if (options.rollback == Rollback::yes && options.force == Force::no) {
    throw Error(ErrorKind::usage, "retire: --rollback goes with --force (it puts back what --force takes "
                                  "the version off)");
  }
  Catalog catalog(session.home, Catalog::Mode::existing);
  const Deployer deployer(session.home.deployments_dir());

  // The directories are taken down or swapped under the transaction's lock (so no deploy of
  // another version can land in between) and put back if it fails; declared after it, they are
  // undone first.
  Catalog::Transaction transaction(catalog);
  std::vector<Deployer::Swap> changed_directories;

  RetireOutcome outcome;
  VersionRecord version = catalog.resolve(options.ref);
  const State next = next_state(Action::retire, version.state, detail::subject(version), options.force);
  std::string reason = options.reason.empty() ? "retired" : options.reason;
  std::vector<std::pair<std::string, detail::Placement>> to_put_back;  // target, what it held before
  for (const auto& target : version.targets) {
    detail::recover_deployment(session, catalog, target, version.model);
    std::optional<detail::Placement> previous;
    if (options.rollback == Rollback::yes) {
      previous = detail::version_to_roll_back_to(catalog, version.model_id, target, version.id);
    }
    catalog.remove_deployment(version.model_id, target,
                              detail::note_for(session, "retired " + detail::subject(version), target));
    if (previous) {
      to_put_back.emplace_back(target, std::move(*previous));  // swapped in below, never emptied
    } else {
      changed_directories.push_back(deployer.take_down(target, version.model));
      outcome.emptied.push_back(target);
    }
  }
  if (!version.targets.empty()) {
    reason += fmt::format(" (forced: taken off {}", fmt::join(version.targets, ", "));
    for (const auto& [target, previous] : to_put_back) {
      reason += fmt::format("; {} rolled back to {}", target, detail::subject(previous));
    }
    reason += ")";
    outcome.removed_from = version.targets;
  }
  catalog.record_transition(version, next,
                            detail::note_for(session, reason, fmt::format("{}", fmt::join(version.targets, ","))));

  for (const auto& [target, previous] : to_put_back) {
    // Read again: an earlier put-back may have moved it (one version back on two targets).
    const detail::Placement current{catalog.resolve(detail::reference_to(previous.version)),
                                    previous.variant};
    std::optional<Deployer::Swap> swap;
    const DeployOutcome placed = detail::place_on_target(
        session, catalog, current, target,
        fmt::format("rolled back on {} from {} (retired) to {}", target, detail::subject(version),
                    detail::subject(current)),
        TargetChange::Kind::rollback, swap);
    if (swap) changed_directories.push_back(std::move(*swap));
    outcome.rolled_back.push_back({target, placed.version});
  }
  transaction.commit();
  for (auto& change : changed_directories) change.commit();

  version.state = next;
  version.targets.clear();
  outcome.version = std::move(version);
  return outcome;
}

}  // namespace mlc
