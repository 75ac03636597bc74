// The catalogue: every model version, its state, metrics, inputs and every transition it went
// through, in one SQLite file (WAL mode, busy timeout, foreign keys on).
//
// The catalogue records; it does not decide. Lifecycle rules live in lifecycle.hpp and the
// operations (operations.hpp) call both inside one transaction. History rows are append-only: the
// database itself refuses to update or delete them (triggers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/home.hpp"
#include "mlc/lifecycle.hpp"
#include "mlc/reference.hpp"

namespace mlc {

namespace sqlite {
class Database;
}

struct VersionRecord {
  int64_t id = 0;
  int64_t model_id = 0;
  std::string model;
  int64_t version = 0;
  State state = State::trained;
  std::string created_at;  // UTC, ISO 8601
  std::string description;
  nlohmann::json config;      // the train config, as validated
  nlohmann::json model_info;  // TrainResult::model_info
  nlohmann::json lineage;     // {"mlc_version", "torch_version", "git_commit", "config_file",
                              //  "command"}
  std::string checkpoint_sha256;
  std::optional<std::string> model_sha256;     // the exported TorchScript file, once exported
  std::optional<std::string> manifest_sha256;  // its manifest.json
  double train_seconds = 0;
  double samples_per_second = 0;
  int64_t train_samples = 0;
  int64_t validation_samples = 0;
  std::map<std::string, std::string> tags;
  std::vector<std::string> targets;  // where it is deployed, sorted
  std::vector<DataFile> data_files;  // what it was trained on
};

struct EvaluationRecord {
  std::string at;  // UTC, ISO 8601 with milliseconds
  int64_t samples = 0;
  bool passed = true;  // every gate passed (true when there were none)
  std::map<std::string, double> metrics;
  nlohmann::json gates;  // [{"expression", "passed", "value"}]
  std::vector<DataFile> data_files;
};

struct HistoryEntry {
  std::string at;  // UTC, ISO 8601 with milliseconds
  std::string model;
  int64_t version = 0;
  std::optional<State> from;  // nullopt for the row that created the version
  State to = State::trained;
  std::string actor;
  std::string reason;
  std::string target;  // deploy: the target concerned; retire --force: the targets it left,
                       // comma-separated; else ""
  std::string command;
};

// Who and why, recorded with every transition.
struct TransitionNote {
  std::string actor;
  std::string reason;
  std::string command;
  std::string target;
};

struct NewVersion {
  std::string model;
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

class Catalog {
 public:
  enum class Mode {
    existing,  // a missing catalogue reads as empty; nothing is created (every command that
               // acts on a version: without a catalogue there is no version to act on)
    create,    // creates MLC_HOME's layout and the catalogue if missing (train)
  };

  // Opens the catalogue of `home`. Throws Error(catalog) if it cannot be opened, or if it was
  // written by a newer mlc (its schema version is above the one this build knows).
  Catalog(const Home& home, Mode mode);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // One write transaction. BEGIN IMMEDIATE takes the write lock first, so a concurrent writer
  // waits (busy timeout) instead of failing at commit. Destroyed without commit(), it rolls back.
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
  std::vector<VersionRecord> list(const std::optional<std::string>& model,
                                  const std::optional<State>& state) const;
  std::vector<EpochMetrics> epochs(int64_t version_id) const;
  std::optional<EvaluationRecord> latest_evaluation(int64_t version_id) const;
  // NAME: every version's history; NAME:VERSION or NAME@TARGET: that version's. Oldest first.
  std::vector<HistoryEntry> history(const Reference& ref) const;
  // The version deployed on `target` for this model, if any.
  std::optional<VersionRecord> deployed_on(int64_t model_id, const std::string& target) const;

  // --- writes: call inside in_transaction ---
  // Creates the model if new, then version max+1 in state trained, with a history row.
  VersionRecord create_version(const NewVersion& version, const TransitionNote& note);
  void record_evaluation(int64_t version_id, const EvaluationRecord& evaluation);
  // Sets the state and appends the history row (also when the state does not change, e.g. a
  // deployed version deployed to a second target: the history says so).
  void record_transition(const VersionRecord& version, State to, const TransitionNote& note);
  void set_export(int64_t version_id, const std::string& model_sha256,
                  const std::string& manifest_sha256);
  void set_registration(int64_t version_id, const std::string& description,
                        const std::map<std::string, std::string>& tags);
  void set_deployment(int64_t model_id, const std::string& target, int64_t version_id);
  void remove_deployment(int64_t model_id, const std::string& target);

  // The schema version this build writes (stored in PRAGMA user_version).
  static int schema_version();

 private:
  VersionRecord load_version(int64_t version_id) const;

  std::unique_ptr<sqlite::Database> db_;
};

// The current time, UTC, ISO 8601 with milliseconds ("2026-11-23T12:00:00.123Z").
std::string utc_now();

}  // namespace mlc
