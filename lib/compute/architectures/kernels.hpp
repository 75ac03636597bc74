// Two operators that libtorch 1.13 runs on the CPU far below what the machine allows, written
// again for the layouts the architectures use. A profile of one step of the Fashion-MNIST CNN
// (bench/README.md, "Convolutional network") put torch::dropout's bernoulli_ at 4 ms for 590k
// elements and the NCHW max_pool2d at 9 ms for a 9 MB input, together a quarter of the step.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace mlc::compute {

// Inverted dropout as torch::dropout: in training each element is kept with probability 1 - p
// and scaled by 1 / (1 - p); otherwise, or with p == 0, `x` itself. The mask comes from a
// counter-based generator (SplitMix64 of the element pair's index under a key), so it is the same
// on any number of threads; the key is one draw from torch's global generator, which the
// training state saves, so a resumed run draws the masks an uninterrupted one would have drawn.
// The masks differ from torch::dropout's for the same seed.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// torch::max_pool2d(x, kernel, stride, padding) with dilation 1 and floor rounding: the same
// values and the same gradient (torch's own backward, from indices chosen as torch chooses them:
// the first maximum of each window in row order, a NaN winning). torch's NCHW kernel compares with
// a branch per element, which random data mispredicts half the time; for the 2x2 window with
// stride 2 this one selects without branching (10x faster measured on one thread, 1.5 ms against
// 15.8 ms for a 64x64x24x24 input); other windows run torch's loop. A tensor other than contiguous
// float32 NCHW goes to torch::max_pool2d.
torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t padding);

}  // namespace mlc::compute
