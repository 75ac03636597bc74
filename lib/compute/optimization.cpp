#include "optimization.hpp"

#include <cmath>
#include <tuple>

#include <fmt/format.h>
#include <torch/nn/utils.h>
#include <torch/optim/adagrad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include "config_access.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Reads training.optimizer.KEY with the schema's default already filled in.
template <typename T>
T setting(const nlohmann::json& config, const char* key) {
  return config_value<T>(config, fmt::format("/training/optimizer/{}", key));
}

std::tuple<double, double> betas(const nlohmann::json& config) {
  const auto values = setting<std::vector<double>>(config, "betas");
  return {values.at(0), values.at(1)};
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const nlohmann::json& config, const std::vector<torch::Tensor>& parameters) {
  const auto name = setting<std::string>(config, "name");
  const auto learning_rate = setting<double>(config, "learning_rate");
  const auto weight_decay = setting<double>(config, "weight_decay");
  if (name == "sgd") {
    // torch::optim::SGD would say this on the first step; the user should hear it before training.
    if (setting<bool>(config, "nesterov") &&
        (setting<double>(config, "momentum") <= 0 || setting<double>(config, "dampening") != 0)) {
      throw Error(ErrorKind::invalid_input,
                  "training.optimizer.nesterov: needs momentum > 0 and dampening 0");
    }
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(learning_rate)
                        .momentum(setting<double>(config, "momentum"))
                        .dampening(setting<double>(config, "dampening"))
                        .nesterov(setting<bool>(config, "nesterov"))
                        .weight_decay(weight_decay));
  }
  if (name == "adagrad") {
    return std::make_unique<torch::optim::Adagrad>(
        parameters, torch::optim::AdagradOptions(learning_rate)
                        .lr_decay(setting<double>(config, "lr_decay"))
                        .initial_accumulator_value(setting<double>(config, "initial_accumulator_value"))
                        .eps(setting<double>(config, "eps"))
                        .weight_decay(weight_decay));
  }
  if (name == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(
        parameters, torch::optim::RMSpropOptions(learning_rate)
                        .alpha(setting<double>(config, "alpha"))
                        .eps(setting<double>(config, "eps"))
                        .momentum(setting<double>(config, "momentum"))
                        .centered(setting<bool>(config, "centered"))
                        .weight_decay(weight_decay));
  }
  if (name == "adam") {
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(learning_rate)
                        .betas(betas(config))
                        .eps(setting<double>(config, "eps"))
                        .amsgrad(setting<bool>(config, "amsgrad"))
                        .weight_decay(weight_decay));
  }
  if (name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(learning_rate)
                        .betas(betas(config))
                        .eps(setting<double>(config, "eps"))
                        .amsgrad(setting<bool>(config, "amsgrad"))
                        .weight_decay(weight_decay));
  }
  throw Error(ErrorKind::invalid_input,
              fmt::format("training.optimizer.name: unknown optimizer '{}'", name));
}

LearningRateSchedule::LearningRateSchedule(const nlohmann::json& config)
    : base_(config_value<double>(config, "/training/optimizer/learning_rate")),
      epochs_(config_value<int>(config, "/training/epochs")) {
  if (!config_has(config, "/training/schedule")) return;
  const auto schedule = config_value<nlohmann::json>(config, "/training/schedule");
  name_ = config_value<std::string>(schedule, "/name", "training.schedule");
  if (schedule.contains("warmup_steps")) {
    warmup_steps_ = config_value<int64_t>(schedule, "/warmup_steps", "training.schedule");
  }
  if (name_ == "step") {
    step_size_ = config_value<int>(schedule, "/step_size", "training.schedule");
    gamma_ = config_value<double>(schedule, "/gamma", "training.schedule");
  } else if (name_ == "cosine") {
    minimum_ = config_value<double>(schedule, "/min_learning_rate", "training.schedule");
  } else if (name_ != "constant") {
    throw Error(ErrorKind::invalid_input,
                fmt::format("training.schedule.name: unknown schedule '{}'", name_));
  }
}

double LearningRateSchedule::rate(int epoch, int64_t step) const {
  double rate = base_;
  if (name_ == "step") {
    rate = base_ * std::pow(gamma_, (epoch - 1) / step_size_);
  } else if (name_ == "cosine") {
    // CosineAnnealingLR with T_max = epochs: the base rate in epoch 1, the minimum after the last.
    const double progress = epochs_ > 1 ? static_cast<double>(epoch - 1) / epochs_ : 0.0;
    rate = minimum_ + (base_ - minimum_) * (1 + std::cos(kPi * progress)) / 2;
  }
  if (step < warmup_steps_) {
    rate *= static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  }
  return rate;
}

void LearningRateSchedule::apply(torch::optim::Optimizer& optimizer, int epoch,
                                 int64_t step) const {
  const double value = rate(epoch, step);
  for (auto& group : optimizer.param_groups()) group.options().set_lr(value);
}

std::optional<double> gradient_clip_norm(const nlohmann::json& config) {
  if (!config_has(config, "/training/gradient_clip_norm")) return std::nullopt;
  return config_value<double>(config, "/training/gradient_clip_norm");
}

double optimization_step(torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         const LearningRateSchedule& schedule, std::optional<double> clip_norm, int epoch,
                         int64_t step, const std::function<torch::Tensor()>& loss,
                         const std::function<double(double)>& combine) {
  schedule.apply(optimizer, epoch, step);
  // Undefined rather than zero-filled: backward then hands each gradient over instead of adding
  // it to zeros the step has just written (4.7 MB for the CNN's first linear layer), as
  // PyTorch 2's zero_grad does. A parameter no loss reached stays undefined, and the optimizers
  // skip it rather than moving it on momentum alone.
  model.zero_grad(/*set_to_none=*/true);
  const torch::Tensor value = loss();
  if (value.defined()) value.backward();
  double combined = 0;
  if (combine) combined = combine(value.defined() ? value.item<double>() : 0.0);
  if (clip_norm) torch::nn::utils::clip_grad_norm_(model.parameters(), *clip_norm);
  optimizer.step();
  return combine ? combined : value.item<double>();
}

}  // namespace mlc::compute
