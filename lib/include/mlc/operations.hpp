// The lifecycle operations behind mlc's subcommands: each checks its input, asks lifecycle.hpp
// whether the move is allowed, does the work (through the compute backend where needed) and
// records the outcome in one catalogue transaction. The CLI only maps flags onto the options
// structs below and prints the outcomes.
//
// Every operation throws mlc::Error on failure and leaves the catalogue, the artifact store and
// the deployment directories as they were (a new artifact left in the store by a failed commit
// is unreferenced, never half-written).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/catalog.hpp"
#include "mlc/compute.hpp"
#include "mlc/home.hpp"
#include "mlc/lifecycle.hpp"
#include "mlc/listing.hpp"
#include "mlc/max_drop.hpp"
#include "mlc/reference.hpp"
#include "mlc/significance.hpp"

namespace mlc {

// What every operation needs to know about its invocation.
struct Session {
  Home home;
  std::string actor;         // current_actor()
  std::string command_line;  // as typed, for the history
  std::string host;          // current_host()
};

// A new run (config_file + model_name) or, with `resume`, an interrupted one continued. Each run
// has a directory HOME/runs/RUN_ID holding run.json (model, config, command) and the training
// state after every epoch; it is removed once the version is recorded. `resume` names a run id,
// or a model name for that model's most recent interrupted run.
struct TrainOptions {
  std::filesystem::path config_file;
  std::string model_name;
  std::vector<std::string> overrides;  // "key.path=value"; --epochs etc. arrive as these too
  std::optional<std::string> resume;
  std::function<void(const EpochMetrics&)> on_epoch;     // progress; may be empty
  std::function<void(const BatchProgress&)> on_batch;   // progress; may be empty
  const std::atomic<int>* stop_requests = nullptr;       // see TrainRequest
  PhaseCallback on_phase;                                // progress; may be empty
  // A data-parallel run (world_size > 1): rank 0 opens the run and records the version; the
  // other ranks open nothing in the home and record nothing (TrainOutcome::recorded false).
  DistributedSettings distributed;
};
struct TrainOutcome {
  VersionRecord version;  // empty on a rank other than 0
  TrainResult result;
  std::string run_id;
  bool resumed = false;
  bool recorded = true;   // false on a rank other than 0
};
// Throws Error(interrupted) naming the run to resume when stop_requests stopped it; Error(refused)
// when the run to resume is still running in another process.
TrainOutcome train_version(const Session& session, const TrainOptions& options);

// A quality gate such as "accuracy>=0.85": metric, comparison, threshold. A relative gate,
// "accuracy>=@production-0.005", holds the metric of the version that target holds for this model,
// on the same data (baseline.hpp), plus `threshold` (the margin).
struct Gate {
  std::string expression;
  std::string metric;
  std::string comparison;  // one of >=, <=, >, <, ==
  double threshold = 0;
  std::optional<std::string> baseline_target;  // a relative gate's TARGET (gate.hpp)
};
// Throws Error(usage) naming the expression and the metrics that exist.
Gate parse_gate(const std::string& expression);

struct EvalOptions {
  Reference ref;
  std::vector<Gate> gates;
  std::optional<std::filesystem::path> data;    // another test set: a CSV, or IDX images
  std::optional<std::filesystem::path> labels;  // the IDX labels that go with --data images
  // eval --top-k K: classification records topK_accuracy; 1 <= K < classes, else Error(usage).
  // Unset: top5_accuracy for a model of more than 5 classes, none otherwise.
  std::optional<int> top_k;
};
// A relative gate's baseline that had no evaluation on the same data and was evaluated by the
// same command (and recorded as its evaluation).
struct BaselineEvaluation {
  std::string target;
  VersionRecord version;
  EvaluationRecord evaluation;
};
struct EvalOutcome {
  VersionRecord version;  // after the evaluation (state unchanged when a gate failed)
  // Its gates: [{"expression", "passed", "value"}], a relative gate's also with "baseline":
  // {"target", "version" (null when the target holds no version of the model), "value",
  // "evaluated_at"} and, when compared, "threshold" and "difference" (value - baseline value);
  // "reason" says why a relative gate could not be compared.
  EvaluationRecord evaluation;
  std::vector<BaselineEvaluation> baselines_evaluated;
};
// A failed gate is not an exception: the metrics are recorded, the state stays, and
// evaluation.passed is false (the CLI exits 3). A relative gate fails when its target holds no
// version of the model, or that version's evaluation on the same data lacks the metric, or the
// version's own test split is other data than this evaluation's (name the data with --data). When
// the target's version has no evaluation on the same data it is evaluated on it (its data config
// with options.data/labels) and recorded; Error(refused) when it cannot be (a version registered
// from an artifact has no checkpoint).
EvalOutcome evaluate_version(const Session& session, const EvalOptions& options);

// mlc compare A B: two versions' metrics on the same data, side by side, and a paired test.
struct CompareOptions {
  Reference a;
  Reference b;
  std::optional<std::filesystem::path> data;    // as EvalOptions: another test set for both
  std::optional<std::filesystem::path> labels;
};
struct ComparedVersion {
  VersionRecord version;
  EvaluationRecord evaluation;
  bool evaluated_now = false;  // false: a recorded evaluation on the same data was reused
};
struct CompareOutcome {
  ComparedVersion a;
  ComparedVersion b;
  PairedTest test;  // McNemar for classifiers, paired t on squared errors for regression
  // Whether both were trained on the same files (by role and sha256); nullopt when either was
  // registered from an artifact, whose training data mlc does not know.
  std::optional<bool> same_training_data;
};
// Reuses each version's newest evaluation on the data (its own test split, or the --data files
// by sha256) that recorded per-sample outcomes; evaluates (loading libtorch) only a version that
// has none, and records that evaluation (state unchanged). Throws Error: usage (A and B the same
// version), refused (a version to evaluate is retired or has no checkpoint; the tasks or classes
// differ; the two evaluations measured different samples, e.g. test splits of different files:
// name one data set with --data), and whatever evaluating throws.
CompareOutcome compare_versions(const Session& session, const CompareOptions& options);

// --max-drop METRIC=AMOUNT or METRIC=PERCENT%: how much worse than the fp32 export a variant may
// measure on the same test split. Worse is lower, or higher for loss, rmse, mae and ece; a
// percentage is of the fp32 value.
struct ExportOptions {
  Reference ref;
  // Where to write a copy of the model file (its manifest beside it); a directory (one that
  // exists, or a path ending in '/', created if missing) gets DIR/NAME-vVERSION.pt. A name ending
  // in ".manifest.json" is refused (Error(usage)): that is the manifest's. nullopt: nothing is
  // written outside MLC_HOME (the export is in the store, where deploy takes it from).
  std::optional<std::filesystem::path> out;
  // --variant KIND: an optimised copy (ComputeBackend::export_variant) instead of the plain fp32
  // export, stored as a variant of the version named `variant_name` (default: the kind's name),
  // and copied to `out` (a directory gets DIR/NAME-vVERSION-VARIANT.pt). nullopt: the plain export.
  std::optional<VariantKind> variant;
  std::optional<std::string> variant_name;
  std::vector<MaxDrop> max_drops;  // --max-drop: refuse a variant that loses more
  // --variant prune: the fraction of units removed, in (0, 1) (Error(usage) otherwise), and the
  // epochs of fine-tuning after it; nullopt without --variant prune.
  std::optional<double> prune_fraction;
  std::optional<int64_t> finetune_epochs;
  // --variant int8 --quantization static|dynamic; nullopt: static for a convolutional model,
  // dynamic otherwise (Quantization::by_architecture). Static for a model with recurrent or
  // attention layers, or without convolutions, is Error(refused) from the compute backend.
  std::optional<Quantization> quantization;
};
struct ExportOutcome {
  VersionRecord version;
  // The copies written (--out); nullopt without --out.
  std::optional<std::filesystem::path> model_file;
  std::optional<std::filesystem::path> manifest_file;  // manifest_path_for(*model_file)
  nlohmann::json manifest;
  std::optional<VariantRecord> variant;  // --variant: what was recorded
};
// The manifest written beside an exported model file, named after it so that two exports into
// one directory keep their own: "out/model.pt" -> "out/model.manifest.json", "m-v3.pt" ->
// "m-v3.manifest.json". (A deployment directory holds model.pt and manifest.json, fixed names.)
std::filesystem::path manifest_path_for(const std::filesystem::path& model_file);
// The first export of a version builds the TorchScript file and stores it; later exports copy the
// stored file out again (same bytes, same sha256).
//
// With options.variant: refused before any work for a version registered from an artifact (no
// checkpoint: Error(refused)), one retired, a name check_name refuses or one the version has
// already (Error(usage)). Then the variant is built and measured with the fp32 export on the
// version's test split; a --max-drop naming a metric the measurement lacks is Error(usage), one
// it exceeds Error(gate_failed) naming the metric, both values and the drop, and either way
// nothing is stored. Otherwise its files go to the store, the catalogue records it with a history
// row (the version's state is unchanged) and the files are copied to `out`, if given.
ExportOutcome export_version(const Session& session, const ExportOptions& options);

struct PredictOptions {
  Reference ref;
  int64_t limit = 0;  // first N samples of the test split; 0 = all
  std::optional<std::filesystem::path> data;
  std::optional<std::filesystem::path> labels;
};
struct PredictOutcome {
  VersionRecord version;
  Predictions predictions;
};
PredictOutcome predict_version(const Session& session, const PredictOptions& options);

// mlc predict REF --input FILE [--output OUT]: scores data the user brings, with no label column
// (ComputeBackend::score says which files), on the inference path `mlc serve` uses: the version's
// exported model.pt and manifest.json, read from the store and checked against their sha256, or,
// for a version never exported, a TorchScript module scripted in memory from its checkpoint.
// Table cells missing are the train config's data.missing_values. With `output`, the scores are
// written there as scores_csv() through a temporary file and a rename, once every row is scored:
// an input that cannot be scored leaves nothing behind.
struct ScoreOptions {
  Reference ref;
  std::filesystem::path input;
  std::optional<std::filesystem::path> output;
};
struct ScoreOutcome {
  VersionRecord version;
  ScoreResult result;
  std::filesystem::path input;                  // absolute
  std::optional<std::filesystem::path> output;  // absolute; written
  bool exported = false;                        // scored with the stored export, not the checkpoint
};
// Throws Error: refused (a retired version), integrity (a stored file that no longer has its
// sha256), usage (--output inside MLC_HOME, or the input itself), invalid_input (what
// ComputeBackend::score refuses; a passed-through column named as an output column; an --output
// that cannot be written, with the OS's reason), not_found (an input that cannot be opened).
ScoreOutcome score_version(const Session& session, const ScoreOptions& options);

// The names of the columns score_version adds after the passed-through ones: predicted_index,
// predicted_label and p_<label> per class, or predicted_value for regression.
std::vector<std::string> score_column_names(const ScoreResult& result);

// The scores as CSV (RFC 4180, "\n" line ends): a header row of the passed-through columns and
// score_column_names(), then one row per scored row; numbers in the shortest form that reads back
// as the same 32-bit float.
std::string scores_csv(const ScoreResult& result);

// mlc serve: every model deployed on `target`, over HTTP (Open Inference Protocol V2), kept
// current while deploy, rollback and retire change the target; returns after SIGINT/SIGTERM once
// the requests in flight are answered. Throws Error(usage) for a bad flag or an address that
// cannot be bound, Error(invalid_input) for an unusable token file.
struct ServeOptions {
  std::string target;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;  // 0: one per core
  std::optional<std::filesystem::path> token_file;
  int max_batch_size = 64;
  int64_t max_queue_delay_us = 1000;
  int64_t max_request_bytes = 16 << 20;
};
void serve_target(const Session& session, const ServeOptions& options);

struct RegisterOptions {
  Reference ref;
  std::string description;
  std::map<std::string, std::string> tags;
};
struct RegisterOutcome {
  VersionRecord version;
  bool changed = true;  // false: it was registered (or deployed) already; nothing was recorded
};
// Registering a version that is registered or deployed already changes nothing (changed = false),
// so that a pipeline can run twice, unless it would set a description or tag other than the
// version's: that is Error(refused) pointing to mlc edit. Throws Error(refused) for a version that
// is not exported (lifecycle.hpp).
RegisterOutcome register_version(const Session& session, const RegisterOptions& options);

// mlc register --artifact: a TorchScript file trained elsewhere becomes the next version of
// `model_name`, in state registered, with its file and a manifest in the store. The file must load
// in libtorch (the one catalogue command that loads it). The manifest (schemas/
// artifact-manifest.schema.json; mlc's own export manifest qualifies) may describe inputs,
// outputs, labels and preprocessing, and state metrics, recorded as the version's evaluation.
struct RegisterArtifactOptions {
  std::filesystem::path artifact;
  std::string model_name;
  std::optional<std::filesystem::path> manifest;
  std::string description;
  std::map<std::string, std::string> tags;
};
struct RegisterArtifactOutcome {
  VersionRecord version;
  TorchScriptInfo inspection;  // what libtorch found in the file
  nlohmann::json manifest;     // as stored
};
// Throws Error: not_found (the file or the manifest cannot be read), invalid_input (not a
// TorchScript file libtorch can load, a manifest that fails its schema or contradicts the file).
RegisterArtifactOutcome register_artifact(const Session& session, const RegisterArtifactOptions& options);
// "KEY=VALUE" -> {KEY, VALUE}; throws Error(usage) if there is no '=' or KEY is empty, and
// Error(invalid_input) for text that is not UTF-8 or holds control characters.
std::pair<std::string, std::string> parse_tag(const std::string& text);

struct DeployOptions {
  Reference ref;
  std::string target;
  std::string reason;
  // One of the version's variants (mlc export --variant) to place instead of its plain fp32
  // export; Error(not_found) listing its variants if it has none of that name. The history's
  // reason says which.
  std::optional<std::string> variant;
};
// Checks the target's rules in MLC_HOME/policy.json (policy.hpp) and refuses with Error(refused)
// naming the failing rule. Finishes first any change of this target's directory that a killed
// process left half-done (Deployer::recover).
struct DeployOutcome {
  VersionRecord version;                 // after the deployment
  std::optional<VersionRecord> replaced; // what the target held before, after the swap
  std::filesystem::path directory;       // $MLC_HOME/deployments/TARGET/NAME
  bool changed = true;                   // false when the version already stood on the target
                                         // (the same variant of it)
  std::optional<std::string> variant;    // the variant that stands now; nullopt: the fp32 export
};
DeployOutcome deploy_version(const Session& session, const DeployOptions& options);

// mlc rollback NAME --target T: puts back the version T held before the current one, walking down
// T's log on each call (deploy 1, 2, 3; rollback -> 2; rollback -> 1). Retired versions are
// skipped. The policy is not checked again: T held that version before. Throws Error(refused)
// when T held no earlier version, Error(not_found) for an unknown model.
struct RollbackOptions {
  std::string model;
  std::string target;
  std::string reason;
};
DeployOutcome rollback_target(const Session& session, const RollbackOptions& options);

// mlc alias NAME ALIAS VERSION / --remove. An alias names one version of a model (NAME@ALIAS);
// it cannot share its name with a target of the model. Each change appends an alias row to the
// history of the version(s) concerned.
struct AliasOptions {
  std::string model;
  std::string alias;
  std::optional<int64_t> version;  // nullopt: remove the alias
  std::string reason;
};
struct AliasOutcome {
  std::string model;
  std::string alias;
  std::optional<VersionRecord> version;   // what it names now (nullopt: removed)
  std::optional<VersionRecord> previous;  // what it named before
  bool changed = true;                    // false when it already named that version
};
AliasOutcome set_alias(const Session& session, const AliasOptions& options);

// mlc edit REF: description and tags after registration (any state), recorded as a metadata row
// in the history with what changed.
struct EditOptions {
  Reference ref;
  std::optional<std::string> description;
  std::map<std::string, std::string> set_tags;
  std::vector<std::string> remove_tags;
  std::string reason;
};
struct EditOutcome {
  VersionRecord version;  // after the edit
  nlohmann::json changes;  // {"description": {"from", "to"}?, "tags_set": {...}, "tags_removed": [...]}
  bool changed = true;
};
EditOutcome edit_version(const Session& session, const EditOptions& options);

// mlc card REF: the version's model card, card.html (self-contained: inline CSS and SVG, nothing
// fetched, no script) and card.md, written into `out` (created if missing; its parent must exist)
// through a temporary file, fsync and rename each. Reads the catalogue only; never loads libtorch.
struct CardOptions {
  Reference ref;
  std::optional<std::filesystem::path> out;  // default: ./NAME-vVERSION-card
};
struct CardOutcome {
  VersionRecord version;
  std::filesystem::path html_file;      // absolute
  std::filesystem::path markdown_file;  // absolute
};
// Throws Error: not_found (no such version), usage (`out` inside MLC_HOME, links resolved; `out`
// names a file), invalid_input (a parent directory that does not exist, a directory that cannot
// be created or written, with the OS's reason).
CardOutcome write_card(const Session& session, const CardOptions& options);

// mlc verify: the catalogue's own integrity, every stored artifact against its sha256, every
// deployment directory against the catalogue, the policy file. Changes of deployment directories
// that a killed process left half-done are finished first (as SQLite rolls back a hot journal) and
// reported as recovered, not as problems.
struct VerifyProblem {
  std::string kind;     // catalogue, artifact_missing, artifact_corrupt, deployment, unrecorded_deployment, policy
  std::string subject;  // what it concerns: "NAME:VERSION", "TARGET/NAME", a file
  std::string message;  // one line
};
struct VerifyReport {
  std::string integrity = "ok";  // PRAGMA integrity_check + foreign_key_check
  int64_t versions = 0;
  int64_t artifacts = 0;    // distinct stored files checked
  int64_t deployments = 0;  // deployment directories checked
  std::vector<std::string> recovered;  // "TARGET/NAME: ..." per interrupted change finished
  std::vector<VerifyProblem> problems;
};
VerifyReport verify_home(const Session& session);

// mlc catalog copy --to URL: moves a team onto a server. Copies every row of the session's
// catalogue (history, target log, aliases, evaluations, variants: everything) into the empty
// catalogue `to` names, in one transaction; the files stay in MLC_HOME. Throws Error(usage) for a
// missing or same target, Error(not_found) if there is no catalogue to copy, Error(refused) if the
// target holds a model already.
struct CatalogCopyReport {
  std::string from;  // Catalog::location(): never a password
  std::string to;
  std::vector<std::pair<std::string, int64_t>> tables;  // rows copied per table, in copy order
};
CatalogCopyReport copy_catalog(const Session& session, const std::string& to);

// mlc gc: deletes what no version needs: stored artifacts no version references (a retired
// version's are kept unless purge_retired), temporary files a killed process left (in the store
// and MLC_HOME/tmp) and leftovers of interrupted deployment changes. Files younger than
// min_age_seconds are kept: a running train or export may have stored them before committing.
// Unreferenced and temporary files younger than min_age_seconds are kept; files only versions
// marked purged reference are deleted whatever their age; temporary files a live process holds
// locked are never deleted. Throws Error(usage) if min_age_seconds is outside 0..kMaxGcMinAgeSeconds.
inline constexpr int64_t kMaxGcMinAgeSeconds = int64_t{10} * 365 * 24 * 3600;  // 10 years
struct GcOptions {
  bool dry_run = false;
  bool purge_retired = false;
  int64_t min_age_seconds = 3600;
};
struct GcItem {
  std::filesystem::path path;
  std::string why;  // unreferenced, retired, temporary, interrupted_deployment
  int64_t bytes = 0;
};
struct GcOutcome {
  std::vector<GcItem> removed;  // with dry_run: what would be removed
  int64_t bytes = 0;
  std::vector<std::string> purged_versions;  // "NAME:VERSION" marked purged by this run
};
GcOutcome collect_garbage(const Session& session, const GcOptions& options);

// mlc retire REF [--force [--rollback]]. A deployed version needs force, which takes it off every
// target it stands on; with rollback, each of those targets gets back the version it held before
// (as mlc rollback would choose it; the policy is not checked again), in the same transaction,
// and a target that held no earlier version that is not retired is left empty.
enum class Rollback { no, yes };
struct RetireOptions {
  Reference ref;
  std::string reason;
  Force force = Force::no;
  Rollback rollback = Rollback::no;
};
struct RetireOutcome {
  VersionRecord version;
  std::vector<std::string> removed_from;  // targets it was taken off (--force)
  std::vector<std::string> emptied;       // of those, the ones that now hold no version of the model
  struct PutBack {
    std::string target;
    VersionRecord version;  // after it was put back
  };
  std::vector<PutBack> rolled_back;  // with Rollback::yes: the others, and what each holds now
};
// Throws Error(usage) for rollback without force, Error(refused) for a deployed version without
// force or a retired one (lifecycle.hpp).
RetireOutcome retire_version(const Session& session, const RetireOptions& options);

// The read-only commands (list, show, history): what they report, read from the catalogue here so
// that apps/ only parses flags and prints (read.cpp).

// mlc list: the versions `filter` selects (ListFilter::metrics must name the sort metric, if any),
// limited and sorted as `order` says (listing.hpp). Error(not_found) for a filter.model that does
// not exist.
std::vector<ListedVersion> list_versions(const Session& session, const ListFilter& filter, const ListOrder& order);

// mlc show REF: one version with what show prints of it.
struct VersionDetail {
  VersionRecord version;
  std::vector<EpochMetrics> epochs;
  std::optional<EvaluationRecord> evaluation;  // the latest
  std::vector<VariantRecord> variants;
};
VersionDetail show_version(const Session& session, const Reference& ref);

// mlc history REF [--limit N]: its rows, oldest first; with a limit, only the newest N.
std::vector<HistoryEntry> version_history(const Session& session, const Reference& ref,
                                          std::optional<int64_t> limit);

// mlc history NAME --target T [--at TIME] [--limit N]: every change of what T held for model
// NAME (`changes`: the newest `limit`, oldest first) and, with `at` (UTC, ISO 8601 as
// parse_utc_time writes it), the change in force at that time, whatever the limit shows: nullopt
// when `at` is before the first change (the target held nothing). Error(usage) for a reference
// that is not a plain NAME, or a target name check_name refuses; Error(not_found) for a model that
// does not exist or was never deployed to T.
struct TargetHistoryOptions {
  Reference ref;
  std::string target;
  std::optional<std::string> at;
  std::optional<int64_t> limit;
};
struct TargetHistory {
  std::vector<TargetChange> changes;
  std::string first_change_at;             // when T first held a version of the model
  std::optional<TargetChange> held_at;     // with options.at: what was in force then
};
TargetHistory target_history(const Session& session, const TargetHistoryOptions& options);

// mlc's own version ("0.1.0").
const char* mlc_version();

}  // namespace mlc
