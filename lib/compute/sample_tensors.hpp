// Samples from mlc::data as tensors, without copying.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "mlc/data.hpp"

namespace mlc::compute {

struct SampleTensors {
  torch::Tensor features;  // [count, sample_shape...], FP32
  torch::Tensor targets;   // [count]: int64 class indices, or FP32 values for regression
};

// Views of `samples`' vectors, which must outlive the tensors. Training and inference only read
// them (batches are copied out), so the const_cast never leads to a write.
inline SampleTensors as_tensors(const data::Samples& samples) {
  std::vector<int64_t> shape = {samples.count()};
  shape.insert(shape.end(), samples.sample_shape.begin(), samples.sample_shape.end());
  const bool regression = !samples.values.empty();
  if (samples.count() == 0) {
    return {torch::empty(shape, torch::kFloat32), torch::empty({0}, torch::kInt64)};
  }
  torch::Tensor targets =
      regression ? torch::from_blob(const_cast<float*>(samples.values.data()), {samples.count()},
                                    torch::kFloat32)
                 : torch::from_blob(const_cast<int64_t*>(samples.labels.data()),
                                    {samples.count()}, torch::kInt64);
  return {torch::from_blob(const_cast<float*>(samples.features.data()), shape, torch::kFloat32),
          targets};
}

}  // namespace mlc::compute
