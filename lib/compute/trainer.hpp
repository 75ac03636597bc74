// The training loop: ComputeBackend::train.
#pragma once

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/data.hpp"

namespace mlc::compute {

// Sets libtorch's intra-op thread count to the config's training.threads, if it names one, at
// most max_threads() (mlc/limits.hpp). Every step on a version (train, eval, export, predict)
// uses the count it was trained with.
void use_configured_threads(const nlohmann::json& config);

// Refuses a training.threads above max_threads() (Error(invalid_input) naming the limit), loads
// the splits request.config's "data" names (seeded with training.seed), then train_on_splits.
TrainResult train(const TrainRequest& request);

// Trains the model request.config describes on splits.train:
// - refused with Error(invalid_input) before the first epoch: an empty training or test split (a
//   version that could never be evaluated), a training split of one class;
// - batches of training.batch_size, or the whole split when it is smaller;
// - every epoch in a fresh order drawn from a generator seeded with training.seed, batches
//   gathered into one reused buffer; the learning rate follows training.schedule, gradients are
//   clipped to training.gradient_clip_norm;
// - after every epoch: validation metrics (none when splits.validation is empty), on_epoch, the
//   best epoch's weights to run_dir/best.pt when the monitored metric improved, and the whole
//   state to run_dir/state.pt (training_state.hpp); early stopping after `patience` epochs
//   without improvement;
// - request.resume: continues from run_dir/state.pt, refusing data whose fingerprints changed;
//   a run with no state.pt yet (killed in its first epoch) starts afresh;
// - *request.stop_requests 1: stops after the epoch, 2: after the batch; saves the state and
//   throws Error(interrupted).
// The version keeps the best epoch's weights (training.keep = "best", with a validation split)
// or the last epoch's. Throws Error(invalid_input) if the loss or a validation metric is not
// finite (diverged), and Error(catalog) if a file in run_dir cannot be written (a full disk).
TrainResult train_on_splits(const TrainRequest& request, const data::Splits& splits);

}  // namespace mlc::compute
