// The optimizer, learning-rate schedule and gradient clipping a train config's "training" object
// asks for, as a PyTorch user would set them up.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace mlc::compute {

// sgd (momentum, dampening, nesterov, weight_decay), adagrad, rmsprop, adam, adamw over
// `parameters`, with training.optimizer's settings.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const nlohmann::json& config,
                                                        const std::vector<torch::Tensor>& parameters);

// The learning rate of every step, as a pure function of where training is, so that a resumed run
// needs no scheduler state. Epoch-based schedules change the rate at epoch boundaries, as PyTorch's
// StepLR and CosineAnnealingLR stepped once per epoch do; a linear warm-up ramps it over the first
// warmup_steps optimizer steps, from base/warmup_steps up to base, as LinearLR stepped per batch.
class LearningRateSchedule {
 public:
  explicit LearningRateSchedule(const nlohmann::json& config);
  // epoch is 1-based; step counts optimizer steps from 0 over the whole run.
  double rate(int epoch, int64_t step) const;
  // Sets every parameter group's rate.
  void apply(torch::optim::Optimizer& optimizer, int epoch, int64_t step) const;

 private:
  std::string name_ = "constant";  // constant | step | cosine
  double base_ = 0;
  int epochs_ = 1;
  int step_size_ = 1;
  double gamma_ = 0.1;
  double minimum_ = 0;
  int64_t warmup_steps_ = 0;
};

// training.gradient_clip_norm, if set: the largest total L2 norm of the gradients.
std::optional<double> gradient_clip_norm(const nlohmann::json& config);

// One optimisation step on one batch, as the trainer and prune's fine-tuning both take it, so that
// the two cannot drift: the schedule's rate for (epoch, step), gradients from zero, `loss()` (the
// batch's mean loss; called after zero_grad), backward, clipping of `model`'s gradients to
// clip_norm if set, the optimizer's step. Returns the loss's value.
// Data-parallel training passes `combine`, called between backward and clipping with the loss's
// value (0 when `loss()` returned an undefined tensor: a rank with no samples in this batch, which
// skips backward); it sums the gradients across ranks and returns the loss to report instead.
double optimization_step(torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         const LearningRateSchedule& schedule, std::optional<double> clip_norm, int epoch,
                         int64_t step, const std::function<torch::Tensor()>& loss,
                         const std::function<double(double)>& combine = nullptr);

}  // namespace mlc::compute
