// The training loop: ComputeBackend::train.
#pragma once

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/data.hpp"

namespace mlc::compute {

// Sets libtorch's intra-op thread count to the config's training.threads, if it names one. Every
// step on a version (train, eval, export, predict) uses the count it was trained with.
void use_configured_threads(const nlohmann::json& config);

// Loads the splits request.config's "data" names (seeded with training.seed), then
// train_on_splits.
TrainResult train(const TrainRequest& request);

// Trains the model `config` describes on splits.train, reports each epoch's validation metrics
// through `on_epoch` (if set; validation loss and accuracy are 0 when splits.validation is empty)
// and writes the final weights to output_dir/checkpoint.pt.
// Throws Error(invalid_input) if splits.train is empty.
TrainResult train_on_splits(const nlohmann::json& config, const data::Splits& splits,
                            const std::filesystem::path& output_dir,
                            const std::function<void(const EpochMetrics&)>& on_epoch);

}  // namespace mlc::compute
