// The training loop: ComputeBackend::train.
#pragma once

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/data.hpp"

namespace mlc::compute {

class RankGroup;

// Sets libtorch's intra-op thread count to the config's training.threads, if it names one, at
// most max_threads() (mlc/limits.hpp). Every step on a version (train, eval, export, predict)
// uses the count it was trained with.
void use_configured_threads(const nlohmann::json& config);

// Refuses a training.threads above max_threads() (Error(invalid_input) naming the limit), loads
// the splits request.config's "data" names (seeded with training.seed), then train_on_splits.
// With request.distributed.world_size above 1, this process is one rank of a data-parallel run:
// train_data_parallel (distributed_training.hpp).
TrainResult train(const TrainRequest& request);

// Refuses a training.threads above max_threads(): Error(invalid_input) naming the limit.
void check_thread_setting(const nlohmann::json& config);

// The splits request.config's "data" names, seeded with its split seed; reports
// TrainPhase::loading_data first.
data::Splits load_training_splits(const TrainRequest& request);

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

// The same as one rank of a data-parallel run, with `group` (null: one process, as above):
// - rank 0's parameters and buffers are broadcast before the first step;
// - every rank draws the same epoch order, computes its disjoint shard of each batch
//   (shard_of_batch) and reseeds torch's generator for dropout from (seed, epoch, rank);
// - between backward and clipping one allreduce sums the gradients (each shard's loss weighted by
//   its share of the batch), the batch's loss and the stop requests (GradientBucket);
// - at an epoch's end batch norm's running statistics are averaged, rank 0 validates, and its
//   verdict (improved, diverged) and every rank's stop requests are summed, so that every rank
//   takes the same branch;
// - only rank 0 writes run_dir's files; the others read run_dir/state.pt when resuming;
// - a lost rank: Error(interrupted) naming it (RankGroup).
TrainResult train_on_splits(const TrainRequest& request, const data::Splits& splits,
                            RankGroup* group);

}  // namespace mlc::compute
