// A training run's state after every epoch (and on an interrupt, mid-epoch): everything a resumed
// run needs to end with the same weights as one that was never stopped.
//
// state.pt is a libtorch archive: the model's parameters and buffers, the optimizer's state
// (Adam's moments, step counts...), torch's global generator (dropout), the generator of the
// epoch orders as it was when the current epoch began (so the epoch's order can be drawn again),
// and RunProgress as JSON. It is written to a temporary file and renamed, so a kill -9 leaves the
// previous state or the new one, never half of one.
#pragma once

#include <filesystem>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/optim/optimizer.h>

#include "mlc/compute.hpp"
#include "model_builder.hpp"

namespace mlc::compute {

struct RunProgress {
  int epoch = 1;            // the epoch in progress, or the next one to run
  int64_t next_batch = 0;   // batches of `epoch` already done (0 at an epoch boundary)
  double loss_sum = 0;      // summed training loss of those batches, weighted by batch size
  double epoch_seconds = 0; // time spent on those batches
  std::vector<EpochMetrics> epochs;  // finished epochs
  int best_epoch = 0;       // 0 until an epoch was judged (no validation split: never)
  double train_seconds = 0;
  std::vector<DataFile> data_files;  // fingerprints of the data when the run began
};

// A copy of `generator`'s state, taken under its lock.
torch::Tensor generator_state(at::Generator& generator);

void save_training_state(const std::filesystem::path& path, const ClassifierImpl& model,
                         const torch::optim::Optimizer& optimizer,
                         const torch::Tensor& order_state_at_epoch_start,
                         const RunProgress& progress);

// Loads a state save_training_state wrote into `model`, `optimizer`, torch's global generator and
// `order_generator` (set to the state at the start of progress.epoch), and returns the progress.
// Throws Error(not_found) if there is no state file and Error(invalid_input) naming the file if it
// is not a state of this model.
RunProgress load_training_state(const std::filesystem::path& path, ClassifierImpl& model,
                                torch::optim::Optimizer& optimizer, at::Generator& order_generator);

}  // namespace mlc::compute
