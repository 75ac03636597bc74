#include <fmt/format.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"

namespace mlc {

DeployOutcome deploy_version(const Session& session, const DeployOptions& options) {
  check_name(options.target, "target");
  Catalog catalog(session.home, Catalog::Mode::read_write);
  const ArtifactStore store = detail::artifact_store(session);
  const Deployer deployer(session.home.deployments_dir());

  // The directory swap happens inside the transaction; if the commit fails, `swap` puts the old
  // directory back when it goes out of scope. A target never holds two versions, nor none.
  std::optional<Deployer::Swap> swap;
  DeployOutcome outcome = catalog.in_transaction([&] {
    DeployOutcome result;
    VersionRecord version = catalog.resolve(options.ref);
    const State next = next_state(Action::deploy, version.state, detail::subject(version));
    result.directory = deployer.directory(options.target, version.model);
    std::optional<VersionRecord> previous = catalog.deployed_on(version.model_id, options.target);
    if (previous && previous->id == version.id) {
      result.version = version;
      result.changed = false;
      return result;
    }
    if (!version.model_sha256 || !version.manifest_sha256) {
      throw Error(ErrorKind::integrity, detail::subject(version) + " has no exported model in the catalogue");
    }
    store.verify(*version.model_sha256);
    store.verify(*version.manifest_sha256);
    swap.emplace(deployer.place(options.target, version.model,
                                {{store.path_of(*version.model_sha256), "model.pt"},
                                 {store.path_of(*version.manifest_sha256), "manifest.json"}}));

    catalog.set_deployment(version.model_id, options.target, version.id);
    const std::string reason = options.reason.empty() ? "deployed to " + options.target : options.reason;
    catalog.record_transition(version, next, detail::note_for(session, reason, options.target));
    if (previous) {
      // Back to registered unless it still stands on another target.
      const bool still_deployed = previous->targets.size() > 1;
      const State back = still_deployed ? State::deployed : State::registered;
      catalog.record_transition(
          *previous, back,
          detail::note_for(session,
                           fmt::format("replaced on {} by {}", options.target, detail::subject(version)),
                           options.target));
      result.replaced = catalog.resolve(Reference{Reference::Kind::version, previous->model,
                                                  previous->version, {}, {}});
    }
    result.version = catalog.resolve(Reference{Reference::Kind::version, version.model,
                                               version.version, {}, {}});
    return result;
  });
  if (swap) swap->commit();
  return outcome;
}

}  // namespace mlc
