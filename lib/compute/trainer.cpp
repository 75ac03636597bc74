#include "trainer.hpp"

#include <malloc.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/types.h>  // before nn/utils.h, which needs torch::Tensor declared
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint.hpp"
#include "config_access.hpp"
#include "distributed.hpp"
#include "distributed_training.hpp"
#include "evaluator.hpp"
#include "mlc/error.hpp"
#include "mlc/limits.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"
#include "objective.hpp"
#include "optimization.hpp"
#include "sample_tensors.hpp"
#include "training_state.hpp"

namespace mlc::compute {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct TrainingOptions {
  int epochs = 0;
  int64_t batch_size = 0;
  uint64_t seed = 0;
  bool keep_best = true;
};

TrainingOptions training_options(const nlohmann::json& config) {
  TrainingOptions options{config_value<int>(config, "/training/epochs"),
                          config_value<int64_t>(config, "/training/batch_size"),
                          config_value<uint64_t>(config, "/training/seed"),
                          config_value<std::string>(config, "/training/keep") == "best"};
  // The schema says so too; a config built in code must not send the batch loop round forever.
  if (options.epochs < 1 || options.batch_size < 1) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("training: epochs and batch_size must be at least 1, found {} and {}",
                            options.epochs, options.batch_size));
  }
  return options;
}

// The file a user would look at for the training split of `data`.
std::string train_source(const nlohmann::json& data) {
  const char* key = data.value("format", "") == "idx" ? "train_images" : "path";
  return data.value(key, "");
}

// Which validation metric judges the epochs (the best epoch, early stopping), and how long to
// wait for it to improve.
class Monitor {
 public:
  Monitor(const nlohmann::json& config, Task task, bool has_validation) {
    const bool early_stopping = config_has(config, "/training/early_stopping");
    if (early_stopping) {
      const auto settings = config_value<nlohmann::json>(config, "/training/early_stopping");
      metric_ = config_value<std::string>(settings, "/metric", "training.early_stopping");
      patience_ = config_value<int>(settings, "/patience", "training.early_stopping");
      min_delta_ = config_value<double>(settings, "/min_delta", "training.early_stopping");
      if (!has_validation) {
        throw Error(ErrorKind::invalid_input,
                    "training.early_stopping: needs a validation split, but "
                    "data.validation_fraction leaves it empty");
      }
    }
    const std::string prefix = "validation_";
    const std::string name = metric_.rfind(prefix, 0) == 0 ? metric_.substr(prefix.size()) : "";
    const auto known = metric_names(task);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("training.early_stopping.metric: '{}' is not reported for {} "
                              "(use validation_{})",
                              metric_, task == Task::regression ? "regression" : "classification",
                              fmt::join(known, ", validation_")));
    }
    key_ = name;
    higher_is_better_ = higher_is_better(name);
  }

  const std::string& metric() const { return metric_; }

  // Whether `epoch` beats `best` (the best epoch so far; null for none).
  bool improves(const EpochMetrics& epoch, const EpochMetrics* best) const {
    if (epoch.validation.empty()) return false;
    if (best == nullptr) return true;
    const double value = epoch.validation.at(key_);
    const double best_value = best->validation.at(key_);
    return higher_is_better_ ? value > best_value + min_delta_ : value < best_value - min_delta_;
  }

  // Whether the last `patience` epochs all failed to improve on the best one.
  bool should_stop(const RunProgress& progress) const {
    return patience_ > 0 && progress.best_epoch > 0 &&
           static_cast<int>(progress.epochs.size()) - progress.best_epoch >= patience_;
  }

 private:
  std::string metric_ = "validation_loss";
  std::string key_;
  int patience_ = 0;  // 0: no early stopping
  double min_delta_ = 0;
  bool higher_is_better_ = false;
};

void check_same_data(const std::vector<DataFile>& started_with, const std::vector<DataFile>& now) {
  for (const DataFile& before : started_with) {
    for (const DataFile& after : now) {
      if (after.role == before.role && after.sha256 != before.sha256) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: changed since the run began (sha256 {} then, {} now); "
                                "a resumed run must see the same data",
                                after.path, before.sha256, after.sha256));
      }
    }
  }
}

int stop_requests(const TrainRequest& request) {
  return request.stop_requests == nullptr ? 0 : request.stop_requests->load();
}

// Everything one run needs; epochs run through run_epoch().
class Run {
 public:
  // `group`: the other ranks of a data-parallel run; null for one process.
  Run(const TrainRequest& request, const data::Splits& splits, RankGroup* group)
      : request_(request),
        group_(group),
        options_(training_options(request.config)),
        info_(describe_training_data(splits, request.config)),
        train_(as_tensors(splits.train)),
        validation_(as_tensors(splits.validation)),
        monitor_(request.config, info_.task, splits.validation.count() > 0),
        schedule_(request.config),
        clip_norm_(gradient_clip_norm(request.config)),
        order_generator_(at::detail::createCPUGenerator(options_.seed)) {
    // One seed for the weights and dropout (torch's global generator) and the epoch orders.
    torch::manual_seed(options_.seed);
    model_ = build_model(config_value<nlohmann::json>(request.config, "/model"), info_);
    optimizer_ = make_optimizer(request.config, model_->parameters());
    const int64_t count = train_.targets.size(0);
    // A batch larger than the split is the whole split: the batch buffer is allocated at the
    // batch size (a million rows of a 180-row table asked for 3 GB).
    options_.batch_size = std::min(options_.batch_size, count);
    batches_ = (count + options_.batch_size - 1) / options_.batch_size;
    // A run killed before its first epoch ended has no state yet: it starts afresh, which gives
    // the weights an uninterrupted run would have had.
    if (request.resume && std::filesystem::exists(state_path())) {
      progress_ = load_training_state(state_path(), *model_, *optimizer_, order_generator_);
      check_same_data(progress_.data_files, splits.files);
    } else {
      progress_.data_files = splits.files;
    }
    if (group_ != nullptr) join_ranks();
  }

  TrainResult run() {
    bool stopped_early = monitor_.should_stop(progress_);
    while (progress_.epoch <= options_.epochs && !stopped_early) {
      run_epoch();
      stopped_early = monitor_.should_stop(progress_);
      const bool finished = progress_.epoch > options_.epochs || stopped_early;
      if (!finished && stop_level() > 0) {
        throw Error(ErrorKind::interrupted,
                    fmt::format("training stopped after epoch {} of {}; its state is saved",
                                progress_.epoch - 1, options_.epochs));
      }
    }
    return result(stopped_early);
  }

 private:
  std::filesystem::path state_path() const { return request_.run_dir / "state.pt"; }
  std::filesystem::path best_path() const { return request_.run_dir / "best.pt"; }
  // Only rank 0 writes the run's files.
  bool writes_files() const { return group_ == nullptr || group_->rank() == 0; }

  // The stop requests every rank acts on: this process's signals, or in a data-parallel run the
  // ones any rank received, as the last reduction summed them (one rank stopping alone would
  // leave the others waiting in the next allreduce).
  int stop_level() const { return group_ == nullptr ? stop_requests(request_) : agreed_stop_level_; }

  int local_stop_level() const { return std::min(stop_requests(request_), 2); }

  void set_agreed_stop_level(double at_least_one, double at_least_two) {
    agreed_stop_level_ = at_least_two > 0 ? 2 : at_least_one > 0 ? 1 : 0;
  }

  // DistributedDataParallel's start: every replica takes rank 0's parameters and buffers (they
  // were built from the same seed, or loaded from the same state.pt, so this is a safeguard
  // against a rank that read something else); the gradients travel in one flat bucket.
  void join_ranks() {
    std::vector<torch::Tensor> tensors = model_->parameters();
    for (const torch::Tensor& buffer : model_->buffers()) tensors.push_back(buffer);
    {
      torch::NoGradGuard no_grad;
      group_->broadcast_from_root(tensors);
    }
    // Three numbers ride with the gradients: the batch's loss and the two stop levels.
    bucket_ = std::make_unique<GradientBucket>(model_->parameters(), 3);
    for (const auto& item : model_->named_buffers()) {
      if (item.key().find("running_") != std::string::npos && item.value().is_floating_point()) {
        running_statistics_.push_back(item.value());
      }
    }
    note_what_is_kept();
  }

  void note_what_is_kept() {
    const std::string run = request_.run_dir.filename().string();
    group_->set_what_is_kept(
        progress_.epochs.empty()
            ? fmt::format("run {} has no finished epoch yet and starts afresh when resumed", run)
            : fmt::format("run {} keeps its state after epoch {}", run,
                          progress_.epochs.back().epoch));
  }

  // A different dropout stream on every rank (the same one on every rank would drop the same
  // units for the n-th sample of each shard), drawn again at every epoch so that a run resumed at
  // an epoch boundary, with any number of ranks, needs only rank 0's generator from state.pt.
  void seed_dropout_for_rank(int epoch) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(options_.seed * 1000003u + static_cast<uint64_t>(epoch) * 7919u +
                               static_cast<uint64_t>(group_->rank()));
  }

  // The batch's mean loss over this rank's shard, weighted by the shard's share of the batch so
  // that the summed gradients are the whole batch's; undefined for an empty shard.
  torch::Tensor shard_loss(const torch::Tensor& features, const torch::Tensor& targets,
                           int64_t batch_size) {
    if (features.size(0) == 0) return {};
    const torch::Tensor loss = training_loss(info_.task, model_->predict(features), targets);
    if (group_ == nullptr) return loss;
    return loss * (static_cast<double>(features.size(0)) / static_cast<double>(batch_size));
  }

  void run_epoch() {
    const int epoch = progress_.epoch;
    const torch::Tensor order_state_at_start = generator_state(order_generator_);
    const int64_t count = train_.targets.size(0);
    const torch::Tensor order = torch::randperm(count, order_generator_, torch::kInt64);
    if (group_ != nullptr) seed_dropout_for_rank(epoch);
    // One buffer per epoch for the batches: index_select_out refills it in place, so the loop
    // allocates nothing for its inputs.
    std::vector<int64_t> batch_shape = train_.features.sizes().vec();
    batch_shape[0] = options_.batch_size;
    torch::Tensor features = torch::empty(batch_shape, train_.features.options());
    torch::Tensor targets = torch::empty({options_.batch_size}, train_.targets.options());

    model_->train();
    const auto started = Clock::now();
    const double seconds_before = progress_.epoch_seconds;
    for (int64_t batch = progress_.next_batch; batch < batches_; ++batch) {
      const int64_t start = batch * options_.batch_size;
      const int64_t size = std::min(options_.batch_size, count - start);
      // Each rank gathers its own disjoint shard of the global batch.
      const auto [first, last] = group_ == nullptr
                                     ? std::pair<int64_t, int64_t>{0, size}
                                     : shard_of_batch(size, group_->rank(), group_->world_size());
      const torch::Tensor indices = order.slice(0, start + first, start + last);
      torch::Tensor batch_features = features.narrow(0, 0, last - first);
      torch::Tensor batch_targets = targets.narrow(0, 0, last - first);
      torch::index_select_out(batch_features, train_.features, 0, indices);
      torch::index_select_out(batch_targets, train_.targets, 0, indices);

      const double loss = optimization_step(
          *model_, *optimizer_, schedule_, clip_norm_, epoch, (epoch - 1) * batches_ + batch,
          [&] { return shard_loss(batch_features, batch_targets, size); }, combine_across_ranks());
      progress_.loss_sum += loss * static_cast<double>(size);
      progress_.next_batch = batch + 1;
      progress_.epoch_seconds = seconds_before + seconds_since(started);
      report_batch(start + size);

      if (stop_level() >= 2 && batch + 1 < batches_) {
        if (writes_files()) {
          save_training_state(state_path(), *model_, *optimizer_, order_state_at_start, progress_);
        }
        throw Error(ErrorKind::interrupted,
                    fmt::format("training stopped in epoch {} after batch {} of {}; its state is "
                                "saved",
                                epoch, batch + 1, batches_));
      }
    }
    finish_epoch(count);
  }

  // Between backward and clipping: the gradients, the loss and the stop requests summed across
  // ranks in one allreduce. Nothing for one process.
  std::function<double(double)> combine_across_ranks() {
    if (group_ == nullptr) return nullptr;
    return [this](double shard_loss_value) {
      const int level = local_stop_level();
      const std::vector<double> sums =
          bucket_->reduce(*group_, {shard_loss_value, level >= 1 ? 1.0 : 0.0, level >= 2 ? 1.0 : 0.0});
      set_agreed_stop_level(sums[1], sums[2]);
      return sums[0];
    };
  }

  void report_batch(int64_t samples_done) {
    if (!request_.on_batch) return;
    BatchProgress batch;
    batch.epoch = progress_.epoch;
    batch.epochs = options_.epochs;
    batch.batch = progress_.next_batch;
    batch.batches = batches_;
    batch.loss = progress_.loss_sum / static_cast<double>(samples_done);
    batch.epoch_seconds = progress_.epoch_seconds;
    batch.samples_per_second =
        progress_.epoch_seconds > 0 ? static_cast<double>(samples_done) / progress_.epoch_seconds
                                    : 0;
    request_.on_batch(batch);
  }

  void finish_epoch(int64_t count) {
    const auto started = Clock::now();
    EpochMetrics metrics;
    metrics.epoch = progress_.epoch;
    metrics.train_loss = progress_.loss_sum / static_cast<double>(count);
    // Batch norm's running statistics, which each rank gathered on its own shards, are averaged
    // before rank 0 validates with them and saves them.
    if (group_ != nullptr) average_buffers(*group_, running_statistics_);
    if (validation_.targets.size(0) > 0 && writes_files()) {
      if (request_.on_phase) request_.on_phase(TrainPhase::validating, progress_.epoch);
      metrics.validation = measure(*model_, info_.task, validation_.features, validation_.targets);
    }
    metrics.seconds = progress_.epoch_seconds + seconds_since(started);
    // A diverged model is not worth a version: say so instead of recording NaN metrics.
    bool finite =
        std::isfinite(metrics.train_loss) &&
        std::all_of(metrics.validation.begin(), metrics.validation.end(),
                    [](const auto& metric) { return std::isfinite(metric.second); });
    const EpochMetrics* best =
        progress_.best_epoch > 0 ? &progress_.epochs[progress_.best_epoch - 1] : nullptr;
    bool improved = finite && monitor_.improves(metrics, best);
    if (group_ != nullptr) {
      // Rank 0's judgement of its validation, and every rank's stop requests.
      const bool root = group_->rank() == 0;
      const int level = local_stop_level();
      torch::Tensor decision = torch::tensor(
          {root && !finite ? 1.0f : 0.0f, root && improved ? 1.0f : 0.0f,
           level >= 1 ? 1.0f : 0.0f, level >= 2 ? 1.0f : 0.0f});
      group_->allreduce_sum(decision);
      finite = decision[0].item<float>() == 0;
      improved = decision[1].item<float>() > 0;
      set_agreed_stop_level(decision[2].item<float>(), decision[3].item<float>());
    }
    if (!finite) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("training diverged in epoch {}: the loss is not finite; lower "
                              "training.optimizer.learning_rate",
                              metrics.epoch));
    }
    if (improved) {
      progress_.best_epoch = metrics.epoch;
      // Before the state that names it: a crash between the two redoes this epoch, which writes
      // the same weights again.
      if (writes_files()) save_checkpoint(*model_, best_path());
    }
    progress_.epochs.push_back(metrics);
    progress_.train_seconds += metrics.seconds;
    progress_.epoch += 1;
    progress_.next_batch = 0;
    progress_.loss_sum = 0;
    progress_.epoch_seconds = 0;
    if (writes_files()) {
      save_training_state(state_path(), *model_, *optimizer_, generator_state(order_generator_),
                          progress_);
    }
    if (group_ != nullptr) note_what_is_kept();
    if (request_.on_epoch) request_.on_epoch(metrics);
  }

  TrainResult result(bool stopped_early) {
    TrainResult result;
    const bool keep_best = options_.keep_best && progress_.best_epoch > 0;
    result.checkpoint = keep_best ? best_path() : request_.run_dir / "last.pt";
    if (!keep_best && writes_files()) save_checkpoint(*model_, result.checkpoint);
    result.best_epoch = keep_best ? progress_.best_epoch
                                  : static_cast<int>(progress_.epochs.size());
    result.monitor = monitor_.metric();
    result.stopped_early = stopped_early;
    result.model_info = to_json(info_);
    result.epochs = progress_.epochs;
    result.data_files = progress_.data_files;
    result.train_samples = train_.targets.size(0);
    result.validation_samples = validation_.targets.size(0);
    result.train_seconds = progress_.train_seconds;
    if (bucket_) result.allreduce_seconds = bucket_->allreduce_seconds();
    result.samples_per_second =
        result.train_seconds > 0
            ? static_cast<double>(progress_.epochs.size()) *
                  static_cast<double>(result.train_samples) / result.train_seconds
            : 0;
    return result;
  }

  const TrainRequest& request_;
  RankGroup* group_;
  TrainingOptions options_;
  ModelInfo info_;
  SampleTensors train_;
  SampleTensors validation_;
  Monitor monitor_;
  LearningRateSchedule schedule_;
  std::optional<double> clip_norm_;
  at::Generator order_generator_;
  Classifier model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  int64_t batches_ = 0;
  RunProgress progress_;
  // Data-parallel runs only:
  std::unique_ptr<GradientBucket> bucket_;
  std::vector<torch::Tensor> running_statistics_;  // batch norm's, averaged at every epoch's end
  int agreed_stop_level_ = 0;
};

// Data that cannot make a model worth a version is refused before the first epoch: a version
// that could never be evaluated, or a classifier of one class, which passes every accuracy gate.
void check_trainable(const data::Splits& splits, const nlohmann::json& data) {
  const int64_t rows = splits.train.count() + splits.validation.count() + splits.test.count();
  if (splits.train.count() == 0) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the training split is empty ({} test and {} validation samples "
                            "leave none to train on)",
                            train_source(data), splits.test.count(), splits.validation.count()));
  }
  if (splits.test.count() == 0) {
    const bool idx = data.value("format", "") == "idx";
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the test split is empty ({}); a version trained without one "
                            "could never be evaluated",
                            idx ? data.value("test_images", "") : train_source(data),
                            idx ? std::string("no test images")
                                : fmt::format("data.test_fraction {} of {} row{} leaves none",
                                              data.value("test_fraction", 0.2), rows,
                                              rows == 1 ? "" : "s")));
  }
  const std::vector<int64_t>& labels = splits.train.labels;
  if (!labels.empty() && std::all_of(labels.begin(), labels.end(),
                                     [&](int64_t label) { return label == labels.front(); })) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the training split has only one class ('{}'); a classifier "
                            "needs at least two",
                            train_source(data), splits.class_names.at(static_cast<size_t>(labels.front()))));
  }
}

// Every training step allocates and frees the same activation and gradient buffers (a CNN's are
// megabytes each). glibc hands blocks above its mmap threshold to mmap and returns them with
// munmap, and trims the heap top after frees, so each step page-faults its buffers in again:
// measured here, 1,450 against 1,950 samples/s for examples/fashion-mnist/cnn.json on 2 threads.
// Keeping them in the heap costs peak RSS nothing the step did not already need.
void keep_freed_buffers_for_reuse() {
  constexpr int kMiB = 1 << 20;
  mallopt(M_MMAP_THRESHOLD, 32 * kMiB);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1024 * kMiB);
  mallopt(M_TOP_PAD, 256 * kMiB);
}

}  // namespace

void use_configured_threads(const nlohmann::json& config) {
  if (config_has(config, "/training/threads")) {
    // Training refuses more than max_threads(); a version trained on a larger machine is still
    // evaluated here, on as many threads as this one allows.
    const auto threads = config_value<int64_t>(config, "/training/threads");
    at::set_num_threads(static_cast<int>(std::min<int64_t>(threads, max_threads())));
  }
}

void check_thread_setting(const nlohmann::json& config) {
  // Before the data is read: an impossible thread count is a mistake in the config.
  if (config_has(config, "/training/threads")) {
    check_thread_count(config_value<int64_t>(config, "/training/threads"), "training.threads");
  }
}

data::Splits load_training_splits(const TrainRequest& request) {
  if (request.on_phase) request.on_phase(TrainPhase::loading_data, 0);
  return data::load_splits(config_value<nlohmann::json>(request.config, "/data"),
                           data::split_seed(request.config));
}

TrainResult train(const TrainRequest& request) {
  if (request.distributed.world_size > 1) return train_data_parallel(request);
  check_thread_setting(request.config);
  return train_on_splits(request, load_training_splits(request));
}

TrainResult train_on_splits(const TrainRequest& request, const data::Splits& splits) {
  return train_on_splits(request, splits, nullptr);
}

TrainResult train_on_splits(const TrainRequest& request, const data::Splits& splits,
                            RankGroup* group) {
  check_trainable(splits, config_value<nlohmann::json>(request.config, "/data"));
  use_configured_threads(request.config);
  keep_freed_buffers_for_reuse();
  if (group == nullptr || group->rank() == 0) std::filesystem::create_directories(request.run_dir);
  Run run(request, splits, group);
  return run.run();
}

}  // namespace mlc::compute
