// `mlc serve`: ComputeBackend::serve. The Open Inference Protocol's routes over the HTTP server,
// the models of one target kept current by a watcher thread, a batcher per model, the metrics.
#pragma once

#include "mlc/compute.hpp"

namespace mlc::compute::serving {

void serve(const ServeRequest& request);

}  // namespace mlc::compute::serving
