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
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/catalog.hpp"
#include "mlc/compute.hpp"
#include "mlc/home.hpp"
#include "mlc/lifecycle.hpp"
#include "mlc/reference.hpp"

namespace mlc {

// What every operation needs to know about its invocation.
struct Session {
  Home home;
  std::string actor;         // current_actor()
  std::string command_line;  // as typed, for the history
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
};
struct TrainOutcome {
  VersionRecord version;
  TrainResult result;
  std::string run_id;
  bool resumed = false;
};
// Throws Error(interrupted) naming the run to resume when stop_requests stopped it; Error(refused)
// when the run to resume is still running in another process.
TrainOutcome train_version(const Session& session, const TrainOptions& options);

// A quality gate such as "accuracy>=0.85": metric, comparison, threshold.
struct Gate {
  std::string expression;
  std::string metric;
  std::string comparison;  // one of >=, <=, >, <, ==
  double threshold = 0;
};
// Throws Error(usage) naming the expression and the metrics that exist.
Gate parse_gate(const std::string& expression);

struct EvalOptions {
  Reference ref;
  std::vector<Gate> gates;
  std::optional<std::filesystem::path> data;    // another test set: a CSV, or IDX images
  std::optional<std::filesystem::path> labels;  // the IDX labels that go with --data images
};
struct EvalOutcome {
  VersionRecord version;  // after the evaluation (state unchanged when a gate failed)
  EvaluationRecord evaluation;
};
// A failed gate is not an exception: the metrics are recorded, the state stays, and
// evaluation.passed is false (the CLI exits 3).
EvalOutcome evaluate_version(const Session& session, const EvalOptions& options);

struct ExportOptions {
  Reference ref;
  std::optional<std::filesystem::path> out;  // default: ./NAME-vVERSION.pt
};
struct ExportOutcome {
  VersionRecord version;
  std::filesystem::path model_file;
  std::filesystem::path manifest_file;  // manifest.json beside model_file
  nlohmann::json manifest;
};
// The first export of a version builds the TorchScript file and stores it; later exports copy the
// stored file out again (same bytes, same sha256).
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

struct RegisterOptions {
  Reference ref;
  std::string description;
  std::map<std::string, std::string> tags;
};
VersionRecord register_version(const Session& session, const RegisterOptions& options);
// "KEY=VALUE" -> {KEY, VALUE}; throws Error(usage) if there is no '=' or KEY is empty.
std::pair<std::string, std::string> parse_tag(const std::string& text);

struct DeployOptions {
  Reference ref;
  std::string target;
  std::string reason;
};
struct DeployOutcome {
  VersionRecord version;                 // after the deployment
  std::optional<VersionRecord> replaced; // what the target held before, after the swap
  std::filesystem::path directory;       // $MLC_HOME/deployments/TARGET/NAME
  bool changed = true;                   // false when the version already stood on the target
};
DeployOutcome deploy_version(const Session& session, const DeployOptions& options);

struct RetireOptions {
  Reference ref;
  std::string reason;
  Force force = Force::no;
};
struct RetireOutcome {
  VersionRecord version;
  std::vector<std::string> removed_from;  // targets it was taken off (--force)
};
RetireOutcome retire_version(const Session& session, const RetireOptions& options);

// mlc's own version ("0.1.0").
const char* mlc_version();

}  // namespace mlc
