#include "trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "config_access.hpp"
#include "evaluator.hpp"
#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"
#include "sample_tensors.hpp"

namespace mlc::compute {

namespace {

using Clock = std::chrono::steady_clock;

struct TrainingOptions {
  int epochs = 0;
  int64_t batch_size = 0;
  uint64_t seed = 0;
};

TrainingOptions training_options(const nlohmann::json& config) {
  TrainingOptions options{config_value<int>(config, "/training/epochs"),
                          config_value<int64_t>(config, "/training/batch_size"),
                          config_value<uint64_t>(config, "/training/seed")};
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

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const nlohmann::json& config, const std::vector<torch::Tensor>& parameters) {
  const auto name = config_value<std::string>(config, "/training/optimizer/name");
  const auto learning_rate = config_value<double>(config, "/training/optimizer/learning_rate");
  const auto weight_decay = config_value<double>(config, "/training/optimizer/weight_decay");
  if (name == "adam") {
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(learning_rate).weight_decay(weight_decay));
  }
  if (name == "sgd") {
    const auto momentum = config_value<double>(config, "/training/optimizer/momentum");
    return std::make_unique<torch::optim::SGD>(
        parameters,
        torch::optim::SGDOptions(learning_rate).momentum(momentum).weight_decay(weight_decay));
  }
  throw Error(ErrorKind::invalid_input,
              fmt::format("training.optimizer.name: unknown optimizer '{}'", name));
}

// One pass over the training split in a fresh seeded order; returns the mean training loss.
// Batches are gathered with index_select from the one in-memory tensor: no per-sample copies.
double train_one_epoch(ClassifierImpl& model, torch::optim::Optimizer& optimizer,
                       const SampleTensors& train, int64_t batch_size, at::Generator& generator) {
  model.train();
  const int64_t count = train.labels.size(0);
  const torch::Tensor order = torch::randperm(count, generator, torch::kInt64);
  double loss_sum = 0;
  for (int64_t start = 0; start < count; start += batch_size) {
    const torch::Tensor batch = order.slice(0, start, start + batch_size);
    optimizer.zero_grad();
    const torch::Tensor logits = model.forward(train.features.index_select(0, batch));
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(logits, train.labels.index_select(0, batch));
    loss.backward();
    optimizer.step();
    loss_sum += loss.item<double>() * static_cast<double>(batch.size(0));
  }
  return loss_sum / static_cast<double>(count);
}

// Metrics of one epoch, timed from its first batch to the end of its validation.
EpochMetrics run_epoch(int epoch, ClassifierImpl& model, torch::optim::Optimizer& optimizer,
                       const SampleTensors& train, const SampleTensors& validation,
                       int64_t batch_size, at::Generator& generator) {
  const auto started = Clock::now();
  EpochMetrics metrics;
  metrics.epoch = epoch;
  metrics.train_loss = train_one_epoch(model, optimizer, train, batch_size, generator);
  if (validation.labels.size(0) > 0) {
    const SplitMetrics validation_metrics = measure(model, validation.features, validation.labels);
    metrics.validation_loss = validation_metrics.loss;
    metrics.validation_accuracy = validation_metrics.accuracy;
  }
  metrics.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return metrics;
}

}  // namespace

void use_configured_threads(const nlohmann::json& config) {
  if (config_has(config, "/training/threads")) {
    at::set_num_threads(config_value<int>(config, "/training/threads"));
  }
}

TrainResult train(const TrainRequest& request) {
  const auto seed = config_value<uint64_t>(request.config, "/training/seed");
  const data::Splits splits =
      data::load_splits(config_value<nlohmann::json>(request.config, "/data"), seed);
  return train_on_splits(request.config, splits, request.output_dir, request.on_epoch);
}

TrainResult train_on_splits(const nlohmann::json& config, const data::Splits& splits,
                            const std::filesystem::path& output_dir,
                            const std::function<void(const EpochMetrics&)>& on_epoch) {
  const auto data = config_value<nlohmann::json>(config, "/data");
  if (splits.train.count() == 0) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the training split is empty ({} test and {} validation samples "
                            "leave none to train on)",
                            train_source(data), splits.test.count(), splits.validation.count()));
  }
  const TrainingOptions options = training_options(config);
  use_configured_threads(config);
  // One seed for the weights and dropout (torch's global generator) and the epoch orders.
  torch::manual_seed(options.seed);
  at::Generator order_generator = at::detail::createCPUGenerator(options.seed);

  const ModelInfo info =
      describe_training_data(splits, config_value<std::string>(config, "/data/format"));
  const Classifier model = build_model(config_value<nlohmann::json>(config, "/model"), info);
  const auto optimizer = make_optimizer(config, model->parameters());
  const SampleTensors train_tensors = as_tensors(splits.train);
  const SampleTensors validation_tensors = as_tensors(splits.validation);

  TrainResult result;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    result.epochs.push_back(run_epoch(epoch, *model, *optimizer, train_tensors, validation_tensors,
                                      options.batch_size, order_generator));
    const EpochMetrics& finished = result.epochs.back();
    result.train_seconds += finished.seconds;
    if (on_epoch) on_epoch(finished);
    // A diverged model is not worth a version: say so instead of recording NaN metrics.
    if (!std::isfinite(finished.train_loss) || !std::isfinite(finished.validation_loss)) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("training diverged in epoch {}: the loss is not finite; lower "
                              "training.optimizer.learning_rate",
                              epoch));
    }
  }

  std::filesystem::create_directories(output_dir);
  result.checkpoint = output_dir / "checkpoint.pt";
  save_checkpoint(*model, result.checkpoint);
  result.model_info = to_json(info);
  result.data_files = splits.files;
  result.train_samples = splits.train.count();
  result.validation_samples = splits.validation.count();
  result.samples_per_second =
      result.train_seconds > 0
          ? static_cast<double>(options.epochs * result.train_samples) / result.train_seconds
          : 0;
  return result;
}

}  // namespace mlc::compute
