// The seam between mlc's catalogue half and its libtorch half.
//
// The mlc binary does not link libtorch: a process that merely links it spends ~0.5 s and 160 MiB
// before main() on our machines, and most subcommands only touch the catalogue. The libtorch half
// is the shared library libmlc_compute.so, which implements ComputeBackend and is dlopen()ed by
// load_compute_backend() only when train, eval, export or predict runs.
//
// The backend is pure: data and model in, files and numbers out. It never touches the catalogue
// or the artifact store; the caller records what it returns in one transaction. Every method
// throws mlc::Error (libtorch's c10::Error is translated inside the backend).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlc {

// A file a version was trained or evaluated on, and its fingerprint at the time.
struct DataFile {
  std::string role;    // the config key that named it, e.g. "train_images", "path"
  std::string path;    // absolute
  std::string sha256;  // lowercase hex
};

// Named metrics of a model on a split: "loss" and "accuracy" for classification; "loss",
// "rmse", "mae" and "r2" for regression. "loss" is the training objective (mean cross-entropy or
// mean squared error).
using Metrics = std::map<std::string, double>;

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  Metrics validation;  // empty when the validation split is empty
  double seconds = 0;
};

// Where an epoch has got to, reported after every batch (progress bars).
struct BatchProgress {
  int epoch = 0;
  int epochs = 0;
  int64_t batch = 0;  // batches done in this epoch
  int64_t batches = 0;
  double loss = 0;  // mean training loss of this epoch's batches so far
  double samples_per_second = 0;
  double epoch_seconds = 0;  // since the epoch (or its resumed part) began
};

struct TrainRequest {
  nlohmann::json config;          // validated train config, paths absolute (train_config.hpp)
  std::filesystem::path run_dir;  // the run's own directory: state.pt after every epoch, best.pt
  bool resume = false;            // continue from run_dir/state.pt instead of starting afresh
  std::function<void(const EpochMetrics&)> on_epoch;  // progress report; may be empty
  std::function<void(const BatchProgress&)> on_batch;  // may be empty; called after every batch
  // Signals counted by the caller: 1 = stop after this epoch, 2 or more = stop now. Either way the
  // state is saved in run_dir and Error(interrupted) is thrown. May be null.
  const std::atomic<int>* stop_requests = nullptr;
};

struct TrainResult {
  std::filesystem::path checkpoint;  // inside run_dir: the weights the version keeps
  // What every later step needs to rebuild and describe the model, recorded in the catalogue:
  // {"task", "class_names" | "target", "feature_names" (tables only), "input_shape",
  //  "preprocessing": {...}}  (see schemas/model-info.schema.json)
  nlohmann::json model_info;
  std::vector<EpochMetrics> epochs;  // every epoch run, resumed ones included
  int best_epoch = 0;        // the epoch whose weights `checkpoint` holds
  std::string monitor;       // the validation metric that chose it, e.g. "validation_loss"
  bool stopped_early = false;
  std::vector<DataFile> data_files;
  int64_t train_samples = 0;
  int64_t validation_samples = 0;
  double train_seconds = 0;       // the training loop only, data loading excluded
  double samples_per_second = 0;  // training samples processed per second of train_seconds
};

// A trained model as the catalogue knows it: enough to rebuild it.
struct TrainedModel {
  nlohmann::json config;              // the config it was trained with
  nlohmann::json model_info;          // TrainResult::model_info
  std::filesystem::path checkpoint;   // a file in the artifact store
};

struct EvalResult {
  Metrics metrics;
  int64_t samples = 0;
  std::vector<DataFile> data_files;
};

struct ExportResult {
  // Open Inference Protocol model metadata: [{"name", "datatype", "shape"}], -1 = batch dimension.
  nlohmann::json inputs;
  nlohmann::json outputs;
};

struct Predictions {
  std::vector<std::vector<float>> outputs;  // one row per sample: its logits, or (regression)
                                            // the one predicted value
  std::vector<int64_t> labels;              // classification: argmax of each row
  std::vector<double> targets;              // the true class index or value of each sample
};

class ComputeBackend {
 public:
  virtual ~ComputeBackend() = default;

  // Trains the model the config describes on its data's training split.
  virtual TrainResult train(const TrainRequest& request) = 0;

  // Evaluates on the test split of `data` (a config "data" object; usually the one it was
  // trained with, or one whose files the user named with eval --data).
  virtual EvalResult evaluate(const TrainedModel& model, const nlohmann::json& data) = 0;

  // Writes a TorchScript module to `out` that Python's torch.jit.load can run: input raw
  // features (FP32, shape [-1, input_shape...]), output logits; preprocessing is inside.
  virtual ExportResult export_torchscript(const TrainedModel& model,
                                          const std::filesystem::path& out) = 0;

  // Runs the model on the first `limit` samples of the test split of `data`.
  virtual Predictions predict(const TrainedModel& model, const nlohmann::json& data,
                              int64_t limit) = 0;

  // Versions of the libraries doing the work, for the catalogue's lineage records.
  virtual std::string torch_version() const = 0;
};

// Loads libmlc_compute.so (from $MLC_COMPUTE_LIB, else <dir of mlc>/../lib/mlc/) once per process
// and returns its backend, which lives until the process exits. Throws Error(internal) naming the
// path and dlerror() if the library cannot be loaded.
ComputeBackend& load_compute_backend();

}  // namespace mlc

// The one symbol libmlc_compute.so exports; returns a backend owned by the library.
extern "C" mlc::ComputeBackend* mlc_compute_backend();
