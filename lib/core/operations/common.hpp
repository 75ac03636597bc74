// Pieces the operations share. Private to lib/core/operations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/compute.hpp"
#include "mlc/deployer.hpp"
#include "mlc/operations.hpp"

namespace mlc::detail {

ArtifactStore artifact_store(const Session& session);

// The history row's note: the session's actor, host and command line with `reason` and `target`.
// Control characters and invalid UTF-8 in the reason and the command line are escaped
// (printable() in text.hpp), so that any text composed into them can be recorded.
TransitionNote note_for(const Session& session, const std::string& reason, std::string target = {});

// Throws Error(refused) for a version registered from an artifact (no checkpoint, no config).
void require_checkpoint(const VersionRecord& version);

// The version as the compute backend needs it, with its checkpoint verified against the store.
TrainedModel trained_model(const Session& session, const VersionRecord& version);

// The data a version is evaluated or run on: the test split of the data it was trained on, or the
// files the user named (--data, --labels). Refuses data that changed since training, because the
// held-out split of a changed file no longer matches what the model never saw.
nlohmann::json evaluation_data(const VersionRecord& version,
                               const std::optional<std::filesystem::path>& data,
                               const std::optional<std::filesystem::path>& labels);

// K of the top-K accuracy an evaluation records: `requested` (eval --top-k; Error(usage) unless a
// classifier with more than K classes), else 5 for a model of more than 5 classes, else 0 (none).
int top_k_for(const VersionRecord& version, std::optional<int> requested);

// Whether the version was trained on IDX files (else CSV, or an artifact without a config).
bool reads_idx(const VersionRecord& version);

// Throws Error(usage) for --labels without --data, --labels for a CSV model, or IDX --data
// without --labels: what eval and compare both refuse before reading anything.
void check_data_flags(const VersionRecord& version, const std::optional<std::filesystem::path>& data,
                      const std::optional<std::filesystem::path>& labels);

// Evaluates the version now, loading the compute library: on its own test split (no `data`) or on
// the files named, with top-K accuracy for K = top_k (0: none). The record is ready to store:
// metrics, details, data files and fingerprint, on_test_split, each sample's outcome.
EvaluationRecord evaluate_now(const Session& session, const VersionRecord& version,
                              const std::optional<std::filesystem::path>& data,
                              const std::optional<std::filesystem::path>& labels, int top_k);

// Refuses `actual` inputs whose sha256 differs from what the version recorded for the same role.
void check_unchanged_inputs(const VersionRecord& version, const std::vector<DataFile>& actual);

// The reference to exactly this version, to read it again under a transaction's lock.
Reference reference_to(const VersionRecord& version);

// "NAME:VERSION", for messages and the history.
std::string subject(const VersionRecord& version);

// What stands on a target: a version, and which of its variants (nullopt: the plain fp32 export).
struct Placement {
  VersionRecord version;
  std::optional<std::string> variant;
};

// "NAME:VERSION", or "NAME:VERSION (variant V)" when a variant stands, for messages and the history.
std::string subject(const Placement& placement);

// The variant of `version` that stands on `target` as the catalogue read it
// (VersionRecord::target_variants); nullopt for the plain export or a target it is not on.
std::optional<std::string> variant_on(const VersionRecord& version, const std::string& target);

// The version's variant named `name`. Throws Error(not_found) naming the version and listing the
// variants it has.
VariantRecord variant_of(const Catalog& catalog, const VersionRecord& version, const std::string& name);

// The files of a deployment directory (model.pt, manifest.json) as the store holds them: the
// version's export, or its variant's model and manifest under those names. Throws
// Error(integrity) if the version was never exported, Error(not_found) for an unknown variant.
std::vector<DeploymentFile> deployment_files(const ArtifactStore& store, const Catalog& catalog,
                                             const VersionRecord& version,
                                             const std::optional<std::string>& variant);

// Finishes a change of deployments/TARGET/MODEL that a killed process left half-done, so that it
// holds what the catalogue says (Deployer::recover). Call inside an open transaction.
bool recover_deployment(const Session& session, const Catalog& catalog, const std::string& target,
                        const std::string& model);

// Puts the version (or its variant) on `target` inside the caller's open transaction: checks the
// move, swaps the directory (the swap lands in `swap`, for the caller to commit after the
// transaction), records the deployment, the target log entry and the transitions of the version
// and of the one it replaces. The same version with another variant is a change (a transition row
// deployed -> deployed), not a replacement. Used by deploy, rollback and retire --rollback.
DeployOutcome place_on_target(const Session& session, Catalog& catalog, const Placement& placement,
                              const std::string& target, const std::string& reason,
                              TargetChange::Kind kind, std::optional<Deployer::Swap>& swap);

// What rollback puts back on `target` for this model: the first (version, variant) below the one
// it holds now in its log (a deploy pushes, a rollback or a remove pops) whose version is not
// retired; nullopt when there is none. Call inside an open transaction. Used by rollback and
// retire --rollback; retire passes the version it retires as `leaving`, so that no variant of it
// (nor its fp32 export) is a candidate: it is about to be retired.
std::optional<Placement> version_to_roll_back_to(const Catalog& catalog, int64_t model_id,
                                                 const std::string& target,
                                                 std::optional<int64_t> leaving = std::nullopt);

// Whether `path` is `root` or below it, both resolved (symbolic links followed): files a user asks
// for (export --out, predict --output) must not overwrite the home's own.
bool resolves_inside(const std::filesystem::path& path, const std::filesystem::path& root);

// The commit checked out in the working directory (read from .git, no git process), or "".
std::string git_commit_of_working_directory();

}  // namespace mlc::detail
