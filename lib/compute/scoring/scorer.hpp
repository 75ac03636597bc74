// ComputeBackend::score: `mlc predict --input`, a version run on data its user brings, through
// the InferenceModel that `mlc serve` runs.
#pragma once

#include "mlc/compute.hpp"

namespace mlc::compute {

// Loads the model (the stored TorchScript, or one scripted in memory from the checkpoint), reads
// request.input (scoring_input.hpp), runs it in batches and decides each row. Throws
// Error(invalid_input) "ORIGIN: the model's output is not finite ..." for a row whose output is
// NaN or infinite, and as the readers do.
ScoreResult score(const ScoreRequest& request);

}  // namespace mlc::compute
