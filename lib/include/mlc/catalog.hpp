// The catalogue: every model version, its state, metrics, inputs and every transition it went
// through, in one SQLite file in MLC_HOME (WAL mode, busy timeout, foreign keys on) or, for a team,
// in a PostgreSQL database (Home::catalog). The same code and SQL serve both: what differs is
// answered by the connection (lib/core/sql.hpp).
//
// The catalogue records; it does not decide. Lifecycle rules live in lifecycle.hpp and the
// operations (operations.hpp) call both inside one transaction. History rows are append-only: the
// database itself refuses to update or delete them (triggers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/home.hpp"
#include "mlc/lifecycle.hpp"
#include "mlc/reference.hpp"

namespace mlc {

namespace sql {
class Connection;
}

// Where a version came from: trained by mlc, or registered from a TorchScript file trained
// elsewhere (mlc register --artifact), which has no checkpoint, train config or training figures.
enum class Origin { train, artifact };
std::string_view to_string(Origin origin);

struct VersionRecord {
  int64_t id = 0;
  int64_t model_id = 0;
  std::string model;
  int64_t version = 0;
  State state = State::trained;
  Origin origin = Origin::train;
  std::string created_at;  // UTC, ISO 8601
  std::string description;
  nlohmann::json config;      // the train config, as validated; null for Origin::artifact
  nlohmann::json model_info;  // TrainResult::model_info ({} or what the manifest said, artifacts)
  nlohmann::json lineage;     // {"mlc_version", "torch_version", "git_commit", "config_file",
                              //  "command"} (+ "resumed_from" when issue 3 records it);
                              // artifacts: {"source_file", "source_sha256", "manifest_file", ...}
  std::string checkpoint_sha256;  // "" for Origin::artifact
  std::optional<std::string> model_sha256;     // the exported TorchScript file, once exported
  std::optional<std::string> manifest_sha256;  // its manifest.json
  std::optional<std::string> artifacts_purged_at;  // gc --purge-retired deleted its files then
  double train_seconds = 0;       // training figures: 0 for Origin::artifact
  double samples_per_second = 0;
  int64_t train_samples = 0;
  int64_t validation_samples = 0;
  std::map<std::string, std::string> tags;
  std::vector<std::string> targets;  // where it is deployed, sorted
  // Of `targets`, those where one of its variants stands (deploy --variant): target -> variant
  // name. A target not in here holds the plain fp32 export.
  std::map<std::string, std::string> target_variants;
  std::vector<std::string> aliases;  // the model's aliases that name it, sorted
  std::vector<DataFile> data_files;  // what it was trained on
};

struct EvaluationRecord {
  std::string at;  // UTC, ISO 8601 with milliseconds
  std::string origin = "eval";  // "eval" (mlc eval), or "manifest" (stated by a registered artifact)
  int64_t samples = 0;
  bool passed = true;  // every gate passed (true when there were none)
  std::map<std::string, double> metrics;
  nlohmann::json gates;  // [{"expression", "passed", "value"}]
  std::vector<DataFile> data_files;
  // EvalResult::details: a classifier's class names and confusion matrix; null for regression,
  // a manifest's metrics and evaluations recorded before schema version 3.
  nlohmann::json details;
  // What data it measured (EvalResult::data_fingerprint) and whether that was the version's own
  // test split (true) or data named with --data (false). Empty / nullopt: a manifest's metrics, or
  // an evaluation recorded before schema version 4, whose data is not known well enough to
  // compare it with another or to let it satisfy a policy.
  std::string data_fingerprint;
  std::optional<bool> on_test_split;
  // EvalResult::correct / squared_errors (empty for the evaluations above).
  std::vector<bool> correct;
  std::vector<double> squared_errors;
};

// An optimised variant of a version (mlc export --variant): its own TorchScript file and manifest
// in the artifact store, measured on the version's test split beside the fp32 export in one run.
struct VariantRecord {
  std::string name;    // unique per version: the kind's name ("int8") or --variant-name
  VariantKind kind = VariantKind::int8;
  std::string format = "torchscript";
  std::string model_sha256;
  std::string manifest_sha256;
  std::string created_at;  // UTC, ISO 8601 with milliseconds
  nlohmann::json details;  // VariantResult::details
  VariantMeasurement fp32;     // the plain export, as measured in the same run
  VariantMeasurement variant;  // the variant
  int64_t samples = 0;
  std::string data_fingerprint;
};

// What a history row records. Transitions change (or confirm) a version's state; alias and
// metadata changes, gc's purge and evaluations (by mlc eval or compare, or stated by a manifest)
// leave the state as it is (from == to) and say what changed in `detail`.
enum class Event { transition, alias, metadata, purge, evaluation, variant };
std::string_view to_string(Event event);

struct HistoryEntry {
  std::string at;  // UTC, ISO 8601 with milliseconds
  std::string model;
  int64_t version = 0;
  Event event = Event::transition;
  std::optional<State> from;  // nullopt for the row that created the version
  State to = State::trained;
  std::string actor;
  std::string host;
  std::string reason;
  std::string target;  // deploy: the target concerned; retire --force: the targets it left,
                       // comma-separated; else ""
  std::string command;
  nlohmann::json detail;  // alias: {"alias", "from_version", "to_version"}; metadata:
                          // {"description": {"from", "to"}, "tags_set", "tags_removed"}; else null
};

// Who, where and why, recorded with every history row.
struct TransitionNote {
  std::string actor;
  std::string reason;
  std::string command;
  std::string target;
  std::string host;
};

// One change of what a target holds for a model (the target log).
struct TargetChange {
  enum class Kind { deploy, rollback, remove };
  int64_t id = 0;
  std::string at;
  Kind kind = Kind::deploy;
  std::optional<int64_t> version;  // the version number it holds from then on; nullopt: none
  std::optional<int64_t> version_id;
  std::optional<std::string> variant;  // the variant of it that stands from then on; nullopt: the
                                       // plain fp32 export (or no version)
  std::string actor;
  std::string host;
  std::string reason;
  std::string command;
};
std::string_view to_string(TargetChange::Kind kind);

struct NewVersion {
  std::string model;
  Origin origin = Origin::train;  // artifact: config and checkpoint stay empty, the state starts at
                                  // registered and model/manifest sha256 are set
  std::optional<std::string> model_sha256;
  std::optional<std::string> manifest_sha256;
  std::string description;
  std::map<std::string, std::string> tags;
  nlohmann::json config;
  nlohmann::json model_info;
  nlohmann::json lineage;
  std::string checkpoint_sha256;
  std::vector<EpochMetrics> epochs;
  std::vector<DataFile> data_files;
  int64_t train_samples = 0;
  int64_t validation_samples = 0;
  double train_seconds = 0;
  double samples_per_second = 0;
};

// Which versions Catalog::list returns: every filter given must match.
struct ListFilter {
  std::optional<std::string> model;
  std::optional<State> state;
  std::map<std::string, std::string> tags;  // each KEY=VALUE must be a tag of the version
  // The metrics of each version's latest evaluation to read (only these: a classifier's
  // evaluation records dozens).
  std::vector<std::string> metrics;
};

// A version as `mlc list` shows it, read without parsing its config, model info or lineage
// (JSON parsing was most of list's time: 1.3 s for 10,000 versions).
struct ListedVersion {
  // Only the fields of a summary (version_summary_json): id, model_id, model, version, state,
  // origin, created_at, description, tags, targets, aliases. The rest keep their defaults.
  VersionRecord version;
  // Its latest evaluation: "eval" (measured by mlc) or "manifest" (self-reported), and those of
  // its metrics that ListFilter::metrics named; nullopt and {} when it has none.
  std::optional<std::string> evaluation_origin;
  Metrics metrics;
};

class Catalog {
 public:
  enum class Mode {
    existing,  // a missing catalogue reads as empty; nothing is created (every command that
               // acts on a version: without a catalogue there is no version to act on)
    create,    // creates MLC_HOME's layout and the catalogue if missing (train)
  };

  // Opens the catalogue of `home` (its SQLite file, or the server Home::catalog names). Throws
  // Error(catalog) if it cannot be opened or reached, or if it was written by a newer mlc (its
  // schema version is above the one this build knows).
  Catalog(const Home& home, Mode mode);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // One write transaction. It takes the catalogue's write lock first (SQLite: BEGIN IMMEDIATE;
  // PostgreSQL: one advisory transaction lock), so a concurrent writer waits (busy timeout)
  // instead of failing at commit. Destroyed without commit(), it rolls back.
  // Side effects outside the database that must be undone on failure (a deployment directory
  // swap) belong to objects declared after the Transaction: they are undone first, while the
  // lock is still held.
  class Transaction {
   public:
    explicit Transaction(Catalog& catalog);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

   private:
    Catalog& catalog_;
    bool open_ = true;
  };

  // Runs `work` inside one Transaction: commits when `work` returns, rolls back and rethrows
  // when it throws.
  template <class Work>
  auto in_transaction(Work&& work) -> decltype(work()) {
    Transaction transaction(*this);
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      transaction.commit();
    } else {
      auto result = work();
      transaction.commit();
      return result;
    }
  }

  // --- reads ---
  // Throws Error(not_found) naming the model, version or target.
  VersionRecord resolve(const Reference& ref) const;
  // The versions `filter` matches, by model name then version number.
  std::vector<ListedVersion> list(const ListFilter& filter) const;
  std::vector<EpochMetrics> epochs(int64_t version_id) const;
  // The version `mlc train` recorded for training run RUN_ID (lineage.run), if any.
  std::optional<VersionRecord> trained_by_run(const std::string& run_id) const;
  std::optional<EvaluationRecord> latest_evaluation(int64_t version_id) const;
  // The version's evaluations, newest first, at most `limit` (-1: all).
  std::vector<EvaluationRecord> evaluations(int64_t version_id, int64_t limit = -1) const;
  // NAME: every version's history; NAME:VERSION or NAME@TARGET: that version's. Oldest first.
  std::vector<HistoryEntry> history(const Reference& ref) const;
  // The version deployed on `target` for this model, if any.
  std::optional<VersionRecord> deployed_on(int64_t model_id, const std::string& target) const;
  // Every change of what `target` held for the model, oldest first ([] if none).
  std::vector<TargetChange> target_log(int64_t model_id, const std::string& target) const;
  // Whether this file of the version was ever placed on `target` (deployed or rolled back to): its
  // variant named `variant`, or with nullopt its fp32 export.
  bool was_deployed_to(int64_t version_id, const std::string& target,
                       const std::optional<std::string>& variant) const;
  // The targets this model has now or ever had.
  std::vector<std::string> targets_of(int64_t model_id) const;
  // The version with this row id (as target logs and deployments hold it). Throws
  // Error(internal) if there is none.
  VersionRecord version_by_id(int64_t version_id) const;
  // The id of the model named so, or nullopt.
  std::optional<int64_t> model_id(const std::string& name) const;
  // The version an alias names, or nullopt.
  std::optional<VersionRecord> aliased(int64_t model_id, const std::string& alias) const;
  // Every version of every model (retired ones included), for verify and gc.
  std::vector<VersionRecord> all_versions() const;
  // The version's variants, oldest first ([] if none).
  std::vector<VariantRecord> variants(int64_t version_id) const;
  // The version's variant named so, or nullopt.
  std::optional<VariantRecord> variant(int64_t version_id, const std::string& name) const;
  // Every sha256 in the artifact store that a catalogue row refers to: checkpoints, exports and
  // their manifests, variants and theirs, of every version (retired ones included, unless their
  // files were purged). gc keeps exactly these; verify checks each.
  std::set<std::string> referenced_artifacts() const;
  // Every sha256 that versions whose files were purged (artifacts_purged_at) refer to, their
  // variants' included. gc deletes these whatever their age, except those referenced_artifacts()
  // has too (a file two versions share).
  std::set<std::string> purged_artifacts() const;
  // Every (target, model) pair the deployments table holds, with the version there.
  struct Deployment {
    std::string target;
    std::string model;
    int64_t version_id = 0;
    std::optional<std::string> variant;  // the variant that stands; nullopt: the fp32 export
  };
  std::vector<Deployment> deployments() const;
  // "ok", or the database's first complaint (SQLite: PRAGMA integrity_check and
  // foreign_key_check; PostgreSQL checks its constraints on every write).
  std::string integrity_check() const;
  // Every row whose values mlc cannot read back (invalid JSON, a JSON value of another type than
  // mlc writes there, an unknown state), one line each naming its table, row and column. Reading
  // such a row anywhere else throws Error(catalog) with the same line.
  std::vector<std::string> unreadable_rows() const;

  // --- writes: call inside in_transaction ---
  // The number the next create_version of this model will get (under the same transaction).
  int64_t next_version_number(const std::string& model) const;
  // Creates the model if new, then version max+1 in state trained (registered for an artifact),
  // with a history row.
  VersionRecord create_version(const NewVersion& version, const TransitionNote& note);
  // Records the evaluation of `version` and an evaluation history row (state unchanged) whose
  // reason is note.reason and whose detail is evaluation_event_json() (json_output.hpp).
  void record_evaluation(const VersionRecord& version, const EvaluationRecord& evaluation,
                         const TransitionNote& note);
  // Sets the state and appends the history row (also when the state does not change, e.g. a
  // deployed version deployed to a second target: the history says so).
  void record_transition(const VersionRecord& version, State to, const TransitionNote& note);
  void set_export(int64_t version_id, const std::string& model_sha256,
                  const std::string& manifest_sha256);
  // Records the variant and a variant history row (state unchanged; detail {"name", "kind",
  // "deltas"}). Throws Error(usage) if the version has a variant of that name already.
  void record_variant(const VersionRecord& version, const VariantRecord& variant,
                      const TransitionNote& note);
  void set_registration(int64_t version_id, const std::string& description,
                        const std::map<std::string, std::string>& tags);
  // Sets what the target holds (the version, and which of its variants: nullopt for the plain
  // export) and appends the change to the target log. Throws Error(not_found) if the version has
  // no variant named `variant`.
  void set_deployment(int64_t model_id, const std::string& target, int64_t version_id,
                      TargetChange::Kind kind, const TransitionNote& note,
                      const std::optional<std::string>& variant = std::nullopt);
  void remove_deployment(int64_t model_id, const std::string& target, const TransitionNote& note);
  // Points `alias` at the version (nullopt: removes it) and appends an alias history row to the
  // version concerned (the one it named before, when removing).
  void set_alias(int64_t model_id, const std::string& alias, const std::optional<VersionRecord>& to,
                 const std::optional<VersionRecord>& from, const TransitionNote& note);
  // Sets the description (if given), sets and removes tags, and appends a metadata history row
  // with what changed.
  void edit_metadata(const VersionRecord& version, const std::optional<std::string>& description,
                     const std::map<std::string, std::string>& set_tags,
                     const std::vector<std::string>& remove_tags, const TransitionNote& note);
  // Records that gc deleted the version's artifacts, with a purge history row.
  void mark_artifacts_purged(const VersionRecord& version, const TransitionNote& note);

  // mlc catalog copy: copies every row of every table of this catalogue into `target`, which must
  // hold no model yet, in one write transaction of the target (ids kept, so every reference
  // between rows stays as it was), and returns each table's row count, in copy order. Throws
  // Error(refused) naming the target if it is not empty.
  std::vector<std::pair<std::string, int64_t>> copy_into(Catalog& target) const;
  // Where the catalogue is, for messages: the SQLite file, or PostgreSQL's host, port and
  // database (never a password).
  std::string location() const;

  // The schema version this build writes (SQLite: PRAGMA user_version; PostgreSQL: mlc_schema).
  static int schema_version();

 private:
  VersionRecord load_version(int64_t version_id) const;
  void append_history(int64_t version_id, const std::string& at, std::optional<State> from, State to,
                      Event event, const TransitionNote& note, const nlohmann::json& detail);
  void append_target_change(int64_t model_id, const std::string& target,
                            std::optional<int64_t> version_id, std::optional<int64_t> variant_id,
                            TargetChange::Kind kind, const std::string& at,
                            const TransitionNote& note);

  std::unique_ptr<sql::Connection> db_;
};

// The current time, UTC, ISO 8601 with milliseconds ("2026-11-23T12:00:00.123Z").
std::string utc_now();

// A time as users write it (ISO 8601: a date, or a date and time with 'Z' or an offset) in
// utc_now()'s form, so that it compares with recorded times as text. A time without a zone is
// refused rather than guessed. Throws Error(usage) naming `what` (e.g. "--at") and the text.
std::string parse_utc_time(const std::string& text, const std::string& what);

}  // namespace mlc
