#include "torch_doctest.hpp"  // first: see why there

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "architectures/kernels.hpp"

namespace {

struct PoolCase {
  std::vector<int64_t> shape;
  int64_t kernel, stride, padding;
};

// Values from a small set, so that windows often hold ties: torch sends the gradient to the
// first maximum, and so must the rewrite.
torch::Tensor tied_values(const std::vector<int64_t>& shape) { return torch::randint(-3, 4, shape).to(torch::kFloat); }

}  // namespace

TEST_CASE("max_pool2d gives torch's values and gradient for every window shape") {
  torch::manual_seed(7);
  const PoolCase cases[] = {{{4, 3, 24, 24}, 2, 2, 0}, {{2, 5, 13, 11}, 3, 2, 1}, {{3, 2, 9, 9}, 3, 3, 0},
                            {{2, 4, 8, 7}, 2, 1, 1},   {{2, 3, 25, 23}, 2, 2, 0}, {{1, 1, 5, 5}, 5, 1, 2},
                            {{2, 3, 7, 10}, 4, 3, 2}};
  for (const PoolCase& c : cases) {
    CAPTURE(c.kernel);
    CAPTURE(c.stride);
    CAPTURE(c.padding);
    for (bool ties : {true, false}) {
      const torch::Tensor values = ties ? tied_values(c.shape) : torch::randn(c.shape);
      const torch::Tensor ours_in = values.clone().requires_grad_();
      const torch::Tensor torch_in = values.clone().requires_grad_();
      const torch::Tensor ours = mlc::compute::max_pool2d(ours_in, c.kernel, c.stride, c.padding);
      const torch::Tensor theirs = torch::max_pool2d(torch_in, {c.kernel, c.kernel}, {c.stride, c.stride},
                                                     {c.padding, c.padding}, {1, 1}, false);
      REQUIRE(ours.sizes() == theirs.sizes());
      CHECK(torch::equal(ours, theirs));
      const torch::Tensor upstream = torch::randn(ours.sizes());
      (ours * upstream).sum().backward();
      (theirs * upstream).sum().backward();
      CHECK(torch::equal(ours_in.grad(), torch_in.grad()));
    }
  }
}

TEST_CASE("max_pool2d lets a NaN win its window, as torch does") {
  torch::Tensor values = torch::zeros({1, 1, 4, 4});
  values[0][0][1][1] = std::numeric_limits<float>::quiet_NaN();
  values[0][0][2][3] = 5;
  const torch::Tensor pooled = mlc::compute::max_pool2d(values, 2, 2, 0);
  CHECK(std::isnan(pooled[0][0][0][0].item<float>()));
  CHECK(pooled[0][0][1][1].item<float>() == 5);
  CHECK(torch::equal(pooled.isnan(), torch::max_pool2d(values, {2, 2}).isnan()));
}

TEST_CASE("max_pool2d hands a channels-last tensor to torch") {
  torch::manual_seed(3);
  const torch::Tensor values = torch::randn({2, 4, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast);
  CHECK(torch::equal(mlc::compute::max_pool2d(values, 2, 2, 0), torch::max_pool2d(values, {2, 2})));
}

TEST_CASE("dropout keeps 1 - p of the elements, scaled by 1 / (1 - p)") {
  torch::manual_seed(11);
  const torch::Tensor x = torch::ones({1000, 1000});
  for (double p : {0.1, 0.25, 0.5, 0.9}) {
    CAPTURE(p);
    const torch::Tensor y = mlc::compute::dropout(x, p, true);
    const torch::Tensor kept = y != 0;
    const double kept_fraction = kept.to(torch::kDouble).mean().item<double>();
    // A million Bernoulli draws: the standard deviation of the fraction is below 0.0005.
    CHECK(std::abs(kept_fraction - (1 - p)) < 0.003);
    CHECK(torch::allclose(y.masked_select(kept), torch::full({1}, 1 / (1 - p))));
    // Neighbouring elements (the two halves of one draw) are not correlated.
    const torch::Tensor flat = kept.flatten().to(torch::kDouble);
    const torch::Tensor even = flat.slice(0, 0, flat.size(0), 2);
    const torch::Tensor odd = flat.slice(0, 1, flat.size(0), 2);
    const double both = (even * odd).mean().item<double>();
    CHECK(std::abs(both - (1 - p) * (1 - p)) < 0.004);
  }
}

TEST_CASE("dropout is the identity in eval mode and with p = 0, and passes its gradient") {
  const torch::Tensor x = torch::randn({8, 5});
  CHECK(mlc::compute::dropout(x, 0.5, false).is_same(x));
  CHECK(mlc::compute::dropout(x, 0.0, true).is_same(x));
  torch::manual_seed(5);
  const torch::Tensor input = torch::randn({64, 33}).requires_grad_();
  const torch::Tensor y = mlc::compute::dropout(input, 0.3, true);
  y.sum().backward();
  // The gradient is the mask itself: 1 / (1 - p) where kept, 0 where dropped.
  CHECK(torch::equal(input.grad() != 0, y != 0));
  CHECK(torch::allclose(input.grad().masked_select(y != 0), torch::full({1}, 1 / 0.7)));
}

TEST_CASE("dropout masks follow torch's seed and not the thread count") {
  const torch::Tensor x = torch::ones({257, 129});  // an odd count: the last draw is half used
  const int threads = at::get_num_threads();
  torch::manual_seed(42);
  at::set_num_threads(1);
  const torch::Tensor one_thread = mlc::compute::dropout(x, 0.5, true);
  const torch::Tensor next = mlc::compute::dropout(x, 0.5, true);
  torch::manual_seed(42);
  at::set_num_threads(2);
  const torch::Tensor two_threads = mlc::compute::dropout(x, 0.5, true);
  at::set_num_threads(threads);
  CHECK(torch::equal(one_thread, two_threads));
  CHECK_FALSE(torch::equal(one_thread, next));
}
