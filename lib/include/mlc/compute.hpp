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
#include <optional>
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
// mean squared error). An evaluation records more (evaluation_metrics.hpp, README "Metrics"):
// per-class "precision[CLASS]", "recall[CLASS]", "f1[CLASS]", "support[CLASS]", "f1_macro",
// "f1_weighted", "topK_accuracy", "ece"; for regression "residual_p05" ... "residual_p95".
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

// What a run is doing between batches, reported as it starts: reading and splitting the data
// (epoch 0), or measuring an epoch's validation split.
enum class TrainPhase { loading_data, validating };
using PhaseCallback = std::function<void(TrainPhase phase, int epoch)>;

// Where this process stands in a data-parallel run (torch.distributed's c10d: a TCPStore at
// master_addr:master_port, rank 0 hosting it, and a Gloo process group). world_size 1: one
// process, no store, nothing exchanged.
struct DistributedSettings {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                     // the rank among this host's processes
  std::string master_addr = "127.0.0.1";  // rank 0's host
  int master_port = 29500;
  std::string backend = "gloo";           // the only one this build has
  std::string mlc_version;                // compared with rank 0's at start
  std::string host;                       // this host's name, for the lineage
};

struct TrainRequest {
  // Validated train config, paths absolute (train_config.hpp). Null on a rank other than 0 that
  // resumes: it trains with rank 0's.
  nlohmann::json config;
  // The run's own directory: state.pt after every epoch, best.pt. Empty on ranks other than 0,
  // which write nothing and read rank 0's (a filesystem shared by the hosts is assumed).
  std::filesystem::path run_dir;
  bool resume = false;            // continue from run_dir/state.pt instead of starting afresh
  DistributedSettings distributed;
  std::function<void(const EpochMetrics&)> on_epoch;  // progress report; may be empty
  std::function<void(const BatchProgress&)> on_batch;  // may be empty; called after every batch
  // Signals counted by the caller: 1 = stop after this epoch, 2 or more = stop now. Either way the
  // state is saved in run_dir and Error(interrupted) is thrown. May be null.
  const std::atomic<int>* stop_requests = nullptr;
  PhaseCallback on_phase;  // may be empty
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
  // A data-parallel run: {"world_size", "backend", "hosts": [one per rank]}; null for one process.
  nlohmann::json distributed;
  // A data-parallel run: the seconds of train_seconds this rank spent in the gradients' allreduce
  // (the transfer and the wait for the slowest rank); 0 for one process.
  double allreduce_seconds = 0;
};

// A trained model as the catalogue knows it: enough to rebuild it.
struct TrainedModel {
  nlohmann::json config;              // the config it was trained with
  nlohmann::json model_info;          // TrainResult::model_info
  std::filesystem::path checkpoint;   // a file in the artifact store
};

// What an evaluation measures beyond what every one does.
struct EvalSettings {
  int top_k = 0;  // classification: also topK_accuracy for this K (1 <= K < classes); 0: none
};

struct EvalResult {
  Metrics metrics;
  // What is not a scalar. Classification: {"class_names": [...], "confusion_matrix": [[...]]},
  // row i the samples of true class i, column j those predicted as class j. Regression: null.
  nlohmann::json details;
  int64_t samples = 0;
  std::vector<DataFile> data_files;
  std::string data_fingerprint;  // data::Splits::test_fingerprint of the samples measured
  // Each sample's outcome, in test-split order, for paired tests between versions (mlc compare):
  // a classifier's right or wrong, a regression model's squared error.
  std::vector<bool> correct;
  std::vector<double> squared_errors;
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

// What libtorch can tell about a TorchScript file without running it (register --artifact).
struct TorchScriptInfo {
  std::string forward_schema;            // e.g. "forward(__torch__.Net self, Tensor x) -> Tensor"
  std::vector<std::string> input_names;  // forward's arguments after self
  std::vector<std::string> input_types;  // their TorchScript types, e.g. "Tensor"
  std::string output_type;               // forward's return type
  int64_t parameter_tensors = 0;
  int64_t parameters = 0;               // elements over all parameter tensors
  std::vector<std::string> dtypes;      // distinct parameter dtypes, e.g. "Float"
};

// mlc export --variant: an optimised copy of a trained version's TorchScript export.
enum class VariantKind {
  fp16,  // floating-point parameters stored in half precision, computed in fp32 (cast in forward:
         // this libtorch has no CPU fp16 kernels)
  int8,  // dynamic int8: every Linear layer's weights int8 (quantized::linear_dynamic, onednn
         // engine), activations quantised on the fly; the rest stays fp32
  prune,  // structured pruning: a fraction of hidden units or channels removed, a smaller dense
          // model of the same architecture, optionally fine-tuned
  onnx,   // the fp32 model as an ONNX graph (opset 17) for runtimes other than libtorch
};
std::string_view to_string(VariantKind kind);
// "fp16", "int8", "prune" or "onnx" (as to_string writes them); nullopt for any other text.
std::optional<VariantKind> variant_kind_from_string(std::string_view text);

// int8 only: how the activations are quantised (mlc export --quantization).
enum class Quantization {
  by_architecture,  // static for a model with convolutions, dynamic otherwise
  dynamic,          // int8 weights; activations quantised per batch at run time
  static_int8,      // int8 weights and activations, scales calibrated on training samples
                    // (convolutional models only: Error(refused) for recurrent or attention layers)
};

struct VariantRequest {
  TrainedModel model;
  nlohmann::json data;  // the version's train config "data" object: its test split is measured
  VariantKind kind = VariantKind::int8;
  std::filesystem::path out;  // where the variant's file is written
  // prune only: the fraction of units removed from each prunable layer, in (0, 1), and the epochs
  // of fine-tuning on the training split afterwards (0: none).
  double prune_fraction = 0;
  int64_t finetune_epochs = 0;
  Quantization quantization = Quantization::by_architecture;  // int8 only
};

// One model file measured on the test split, all in one run.
struct VariantMeasurement {
  Metrics metrics;          // as ComputeBackend::evaluate names them (the scalar ones); empty for
                            // a file mlc cannot run (an ONNX graph: mlc has no ONNX runtime)
  int64_t size_bytes = 0;   // the model file
  // Median wall time per sample of forward() on test-split inputs with one intra-op thread, at
  // batch size 1 and 64, in milliseconds; nullopt for a file mlc cannot run.
  std::optional<double> latency_batch1_ms;
  std::optional<double> latency_batch64_ms;
};

struct VariantResult {
  std::string format = "torchscript";  // or "onnx": what the file is
  ExportResult metadata;      // the variant's OIP inputs and outputs (the same as the fp32 export's)
  nlohmann::json details;     // what was done, e.g. {"quantized_layers": 3, "engine": "onednn"}
  VariantMeasurement fp32;    // the plain export (script_trained_model), measured beside it
  VariantMeasurement variant;
  int64_t samples = 0;               // test-split samples measured
  std::string data_fingerprint;      // EvalResult::data_fingerprint of those samples
};

// A model a serving target holds, as the catalogue says now (mlc serve).
struct ServedVersion {
  std::string name;
  int64_t version = 0;
  std::string model_sha256;                   // model.pt must hash to this before it serves
  std::vector<std::string> missing_values;    // table cells read as missing (the train config's)
};

struct ServeRequest {
  std::string target;
  std::filesystem::path target_dir;  // MLC_HOME/deployments/TARGET (may not exist yet)
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port (the log line says which)
  int threads = 0;                   // HTTP threads; 0: one per core
  std::string token;                 // bearer token for the model endpoints; "" = none
  int max_batch_size = 64;
  int64_t max_queue_delay_us = 1000;
  int64_t max_request_bytes = 16 << 20;
  double poll_seconds = 0.2;         // how often the catalogue is read for changes
  // Reads what TARGET holds now from the catalogue (a fresh read each call, from one thread at a
  // time); an empty list before the first deploy. May throw mlc::Error: the server logs it and
  // keeps serving what it has.
  std::function<std::vector<ServedVersion>()> read_target;
  // Checks the model directory `dir` (deployments/TARGET/NAME) holds no symbolic link; throws
  // mlc::Error otherwise (home_paths.hpp: the core's check, passed in).
  std::function<void(const std::filesystem::path& dir)> check_no_links;
};

// mlc predict --input: a version run on data its user brings, with no label column (ScoreRequest
// in, ScoreResult out), on the same inference path as mlc serve.
struct ScoreRequest {
  // The model: the exported TorchScript file's bytes and its manifest.json, checked against the
  // catalogue's sha256 by the caller; or, when `script` is empty, `trained`, scripted in memory as
  // export would script it, described by a manifest built from its model_info and `name`/`version`.
  std::string script;
  nlohmann::json manifest;
  std::optional<TrainedModel> trained;
  std::string name;
  int64_t version = 0;
  std::vector<std::string> missing_values;  // table cells read as missing (the train config's)
  nlohmann::json config;                    // the train config (threads); null for an artifact
  // What to score: a CSV table (optionally .gz) with the model's feature columns by name, a PNG or
  // JPEG image or a directory of them, IDX images (optionally .gz), or a JSON file holding an Open
  // Inference Protocol infer request.
  std::filesystem::path input;
};

struct ScoreResult {
  std::string input_kind;                           // "csv", "images", "idx" or "infer_request"
  std::vector<std::string> columns;                 // passed through: the CSV's columns that are
                                                    // not features; "file" (images); "index"
  std::vector<std::vector<std::string>> passed;     // per row, one cell per column
  bool regression = false;
  std::vector<std::string> labels;                  // classification: class names by index
  std::vector<std::vector<float>> outputs;          // per row: logits, or the predicted value
  std::vector<int64_t> predicted;                   // classification: argmax of each row
  std::vector<std::vector<float>> probabilities;    // classification: softmax of each row
};

class ComputeBackend {
 public:
  virtual ~ComputeBackend() = default;

  // Trains the model the config describes on its data's training split.
  virtual TrainResult train(const TrainRequest& request) = 0;

  // Evaluates on the test split of `data` (a config "data" object; usually the one it was
  // trained with, or one whose files the user named with eval --data).
  // `settings`: the defaults measure no top-k accuracy. Throws Error(usage) for a top_k the model
  // cannot have (K >= its classes, or a regression model).
  virtual EvalResult evaluate(const TrainedModel& model, const nlohmann::json& data,
                              const EvalSettings& settings = {}) = 0;

  // Writes a TorchScript module to `out` that Python's torch.jit.load can run: input raw
  // features (FP32, shape [-1, input_shape...]), output logits; preprocessing is inside.
  virtual ExportResult export_torchscript(const TrainedModel& model,
                                          const std::filesystem::path& out) = 0;

  // Runs the model on the first `limit` samples of the test split of `data`.
  virtual Predictions predict(const TrainedModel& model, const nlohmann::json& data,
                              int64_t limit) = 0;

  // Writes the variant's TorchScript file to request.out (Python's torch.jit.load runs it: same
  // raw inputs and outputs as the fp32 export) and measures it and the fp32 export on the test
  // split of request.data. Throws Error(refused) for a variant the model or this libtorch cannot have
  // (a weight beyond half precision's range, no Linear layer to quantise, no onednn engine), and
  // Error(invalid_input) as evaluate() does for data that does not fit.
  virtual VariantResult export_variant(const VariantRequest& request) = 0;

  // Loads `file` with torch::jit::load and reports its forward() signature and parameters.
  // Throws Error(invalid_input) naming the file if libtorch cannot load it as TorchScript.
  virtual TorchScriptInfo inspect_torchscript(const std::filesystem::path& file) = 0;

  // Serves every model TARGET holds over HTTP (Open Inference Protocol V2) until SIGINT or
  // SIGTERM, then finishes the requests in flight and returns. Logs to stderr.
  virtual void serve(const ServeRequest& request) = 0;

  // Scores every row (or image) of request.input. Throws Error(invalid_input) naming the file and
  // the line and column, the image or the item that cannot be scored (a cell that is not a number,
  // a missing feature column, an image of another size, an output that is not finite), and
  // Error(not_found) for an input that cannot be read.
  virtual ScoreResult score(const ScoreRequest& request) = 0;

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
