#include <fmt/format.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// The deployment directory holds exactly this version's exported files.
bool deployment_intact(const fs::path& directory, const VersionRecord& version) {
  for (const auto& [name, sha256] : {std::pair{"model.pt", version.model_sha256},
                                     std::pair{"manifest.json", version.manifest_sha256}}) {
    const fs::path file = directory / name;
    if (!sha256 || !fs::exists(file) || sha256_file(file) != *sha256) return false;
  }
  return true;
}

}  // namespace

DeployOutcome deploy_version(const Session& session, const DeployOptions& options) {
  check_name(options.target, "target");
  Catalog catalog(session.home, Catalog::Mode::existing);
  const ArtifactStore store = detail::artifact_store(session);
  const Deployer deployer(session.home.deployments_dir());

  // Declared in this order so that, on failure, the directory swap is undone first, while the
  // transaction still holds the lock: a target never holds two versions, nor none.
  Catalog::Transaction transaction(catalog);
  std::optional<Deployer::Swap> swap;

  DeployOutcome outcome;
  VersionRecord version = catalog.resolve(options.ref);
  const State next = next_state(Action::deploy, version.state, detail::subject(version));
  outcome.directory = deployer.directory(options.target, version.model);
  std::optional<VersionRecord> previous = catalog.deployed_on(version.model_id, options.target);
  std::string reason = options.reason.empty() ? "deployed to " + options.target : options.reason;
  if (previous && previous->id == version.id) {
    if (deployment_intact(outcome.directory, version)) {
      outcome.version = version;
      outcome.changed = false;
      return outcome;
    }
    previous.reset();  // same version, files missing or changed: place them again
    reason = "files on " + options.target + " were missing or changed; placed again";
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
  catalog.record_transition(version, next, detail::note_for(session, reason, options.target));
  if (previous) {
    // Back to registered unless it still stands on another target.
    const State back = previous->targets.size() > 1 ? State::deployed : State::registered;
    catalog.record_transition(
        *previous, back,
        detail::note_for(session,
                         fmt::format("replaced on {} by {}", options.target, detail::subject(version)),
                         options.target));
    outcome.replaced = catalog.resolve(detail::reference_to(*previous));
  }
  outcome.version = catalog.resolve(detail::reference_to(version));
  transaction.commit();
  swap->commit();
  return outcome;
}

}  // namespace mlc
