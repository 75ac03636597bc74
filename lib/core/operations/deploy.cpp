#include <fmt/format.h>

#include "common.hpp"
#include "mlc/deployer.hpp"
#include "mlc/error.hpp"
#include "mlc/policy.hpp"

namespace mlc {
namespace fs = std::filesystem;

namespace detail {

std::vector<DeploymentFile> deployment_files(const ArtifactStore& store, const Catalog& catalog,
                                             const VersionRecord& version,
                                             const std::optional<std::string>& variant) {
  if (!version.model_sha256 || !version.manifest_sha256) {
    throw Error(ErrorKind::integrity, subject(version) + " has no exported model in the catalogue");
  }
  if (variant) {
    const VariantRecord record = variant_of(catalog, version, *variant);
    return {{store.path_of(record.model_sha256), "model.pt", record.model_sha256},
            {store.path_of(record.manifest_sha256), "manifest.json", record.manifest_sha256}};
  }
  return {{store.path_of(*version.model_sha256), "model.pt", *version.model_sha256},
          {store.path_of(*version.manifest_sha256), "manifest.json", *version.manifest_sha256}};
}

bool recover_deployment(const Session& session, const Catalog& catalog, const std::string& target,
                        const std::string& model) {
  const Deployer deployer(session.home.deployments_dir());
  if (deployer.leftovers(target, model).empty()) return false;
  std::optional<std::vector<DeploymentFile>> files;
  if (const auto id = catalog.model_id(model)) {
    if (const auto deployed = catalog.deployed_on(*id, target)) {
      files = deployment_files(artifact_store(session), catalog, *deployed, variant_on(*deployed, target));
    }
  }
  return deployer.recover(target, model, files);
}

DeployOutcome place_on_target(const Session& session, Catalog& catalog, const Placement& placement,
                              const std::string& target, const std::string& reason,
                              TargetChange::Kind kind, std::optional<Deployer::Swap>& swap) {
  const VersionRecord& version = placement.version;
  const ArtifactStore store = artifact_store(session);
  const Deployer deployer(session.home.deployments_dir());
  const State next = next_state(Action::deploy, version.state, subject(version));
  recover_deployment(session, catalog, target, version.model);

  DeployOutcome outcome;
  outcome.directory = deployer.directory(target, version.model);
  outcome.variant = placement.variant;
  std::optional<VersionRecord> previous = catalog.deployed_on(version.model_id, target);
  std::string why = reason;
  const auto files = deployment_files(store, catalog, version, placement.variant);
  if (previous && previous->id == version.id) {
    if (variant_on(*previous, target) == placement.variant) {
      if (deployer.mismatches(target, version.model, files).empty()) {
        outcome.version = version;
        outcome.changed = false;
        return outcome;
      }
      why = "files on " + target + " were missing or changed; placed again";
    }
    // Same version: its files placed again, or another of its variants; nothing is replaced.
    previous.reset();
  }
  for (const auto& file : files) store.verify(file.sha256);
  swap.emplace(deployer.place(target, version.model, files));

  catalog.set_deployment(version.model_id, target, version.id, kind, note_for(session, why, target),
                         placement.variant);
  catalog.record_transition(version, next, note_for(session, why, target));
  if (previous) {
    // Back to registered unless it still stands on another target.
    const State back = previous->targets.size() > 1 ? State::deployed : State::registered;
    catalog.record_transition(
        *previous, back,
        note_for(session, fmt::format("replaced on {} by {}", target, subject(version)), target));
    outcome.replaced = catalog.resolve(reference_to(*previous));
  }
  outcome.version = catalog.resolve(reference_to(version));
  return outcome;
}

}  // namespace detail

DeployOutcome deploy_version(const Session& session, const DeployOptions& options) {
  check_name(options.target, "target");
  const Policy policy = load_policy(session.home);
  Catalog catalog(session.home, Catalog::Mode::existing);

  // Declared in this order so that, on failure, the directory swap is undone first, while the
  // transaction still holds the lock: a target never holds two versions, nor none.
  Catalog::Transaction transaction(catalog);
  std::optional<Deployer::Swap> swap;

  const VersionRecord version = catalog.resolve(options.ref);
  if (catalog.aliased(version.model_id, options.target)) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("target '{}': model '{}' has an alias of that name; an alias and a "
                            "target of one model cannot share a name",
                            options.target, version.model));
  }
  next_state(Action::deploy, version.state, detail::subject(version));
  std::optional<VariantRecord> variant;
  if (options.variant) variant = detail::variant_of(catalog, version, *options.variant);  // not_found, listing them
  if (variant && variant->format != "torchscript") {
    throw Error(ErrorKind::refused,
                fmt::format("{} variant {} is not TorchScript ({}), which mlc serve cannot run; deploy a TorchScript "
                            "variant (mlc export {}:{} --variant-name {} --out DIR/ copies the file out for another runtime)",
                            detail::subject(version), variant->name, variant->format, version.model,
                            version.version, variant->name));
  }
  const auto previous = catalog.deployed_on(version.model_id, options.target);
  // Another variant of the version standing there (or its fp32 export) is a new model file: the
  // rules judge it too. Only the very same placement again is exempt.
  if (!previous || previous->id != version.id || detail::variant_on(*previous, options.target) != options.variant) {
    check_policy(policy, options.target, version, catalog, variant ? &*variant : nullptr);
  }
  std::string reason = options.reason.empty() ? "deployed to " + options.target : options.reason;
  if (options.variant) reason += fmt::format(" (variant {})", *options.variant);
  DeployOutcome outcome =
      detail::place_on_target(session, catalog, {version, options.variant}, options.target, reason,
                              TargetChange::Kind::deploy, swap);
  transaction.commit();
  if (swap) swap->commit();
  return outcome;
}

}  // namespace mlc
