#include "kernels.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace mlc::compute {

namespace {

// Work per parallel task, in elements: below this, splitting costs more than it saves.
constexpr int64_t kGrainElements = 32768;

uint64_t draw_key() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// Element `index` of SplitMix64's stream `key`: its output function over a Weyl sequence, which
// passes BigCrush and needs two multiplications for 64 random bits (Philox needs twenty for 128).
uint64_t splitmix64(uint64_t key, uint64_t index) {
  uint64_t z = key + (index + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// 1 / (1 - p) where a 32-bit draw falls below (1 - p) * 2^32, else 0: two elements per draw.
torch::Tensor dropout_mask(const torch::Tensor& x, double p) {
  torch::Tensor mask = torch::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  float* values = mask.data_ptr<float>();
  const int64_t count = mask.numel();
  const uint64_t threshold = static_cast<uint64_t>(std::ldexp(1.0 - p, 32));
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  const uint64_t key = draw_key();
  at::parallel_for(0, (count + 1) / 2, kGrainElements / 2, [&](int64_t begin, int64_t end) {
    for (int64_t pair = begin; pair < end; ++pair) {
      const uint64_t bits = splitmix64(key, static_cast<uint64_t>(pair));
      const int64_t first = 2 * pair;
      values[first] = (bits & 0xFFFFFFFFULL) < threshold ? scale : 0.0F;
      if (first + 1 < count) values[first + 1] = (bits >> 32) < threshold ? scale : 0.0F;
    }
  });
  return mask;
}

struct PoolWindow {
  int64_t kernel = 0;
  int64_t stride = 0;
  int64_t padding = 0;
};

int64_t pooled_extent(int64_t extent, const PoolWindow& window) {
  return (extent + 2 * window.padding - window.kernel) / window.stride + 1;
}

// One channel of one sample: torch's cpu_max_pool loop (the same windows, start index and
// comparison). GCC compiles its comparison to a branch, as torch's, so any window but 2x2 pools
// at torch's speed.
void pool_plane(const float* input, int64_t height, int64_t width, const PoolWindow& window, float* output,
                int64_t* indices, int64_t out_height, int64_t out_width) {
  for (int64_t oh = 0; oh < out_height; ++oh) {
    const int64_t row_end = std::min(oh * window.stride - window.padding + window.kernel, height);
    const int64_t row_begin = std::max<int64_t>(oh * window.stride - window.padding, 0);
    for (int64_t ow = 0; ow < out_width; ++ow) {
      const int64_t column_end = std::min(ow * window.stride - window.padding + window.kernel, width);
      const int64_t column_begin = std::max<int64_t>(ow * window.stride - window.padding, 0);
      int64_t best_index = row_begin * width + column_begin;
      float best = -std::numeric_limits<float>::infinity();
      for (int64_t row = row_begin; row < row_end; ++row) {
        for (int64_t column = column_begin; column < column_end; ++column) {
          const int64_t index = row * width + column;
          const float value = input[index];
          const bool take = (value > best) | std::isnan(value);
          best = take ? value : best;
          best_index = take ? index : best_index;
        }
      }
      output[oh * out_width + ow] = best;
      indices[oh * out_width + ow] = best_index;
    }
  }
}

// The common 2x2 window with stride 2 and no padding, in a form the compiler turns into max and
// set instructions without a branch: the first maximum of each row pair, then of the two. A
// NaN would be lost by max, so a plane holding one is pooled again by pool_plane().
void pool_plane_2x2(const float* input, int64_t height, int64_t width, float* output, int64_t* indices,
                    int64_t out_height, int64_t out_width) {
  bool has_nan = false;
  for (int64_t oh = 0; oh < out_height; ++oh) {
    const float* top = input + 2 * oh * width;
    const float* bottom = top + width;
    for (int64_t ow = 0; ow < out_width; ++ow) {
      const float a = top[2 * ow];
      const float b = top[2 * ow + 1];
      const float c = bottom[2 * ow];
      const float d = bottom[2 * ow + 1];
      has_nan |= std::isnan(a) | std::isnan(b) | std::isnan(c) | std::isnan(d);
      const float upper = std::max(a, b);  // a on a tie, as torch's scan keeps the first
      const float lower = std::max(c, d);
      const int64_t upper_offset = static_cast<int64_t>(b > a);
      const int64_t lower_offset = width + static_cast<int64_t>(d > c);
      const auto lower_wins = static_cast<int64_t>(lower > upper);
      output[oh * out_width + ow] = std::max(upper, lower);
      indices[oh * out_width + ow] =
          2 * oh * width + 2 * ow + upper_offset + lower_wins * (lower_offset - upper_offset);
    }
  }
  if (has_nan) {
    pool_plane(input, height, width, PoolWindow{2, 2, 0}, output, indices, out_height, out_width);
  }
}

class MaxPool2dFunction : public torch::autograd::Function<MaxPool2dFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x, int64_t kernel,
                               int64_t stride, int64_t padding) {
    const PoolWindow window{kernel, stride, padding};
    const int64_t planes = x.size(0) * x.size(1);
    const int64_t height = x.size(2);
    const int64_t width = x.size(3);
    const int64_t out_height = pooled_extent(height, window);
    const int64_t out_width = pooled_extent(width, window);
    torch::Tensor output = torch::empty({x.size(0), x.size(1), out_height, out_width}, x.options());
    torch::Tensor indices = torch::empty(output.sizes(), x.options().dtype(torch::kInt64));
    const float* in = x.data_ptr<float>();
    float* out = output.data_ptr<float>();
    int64_t* index = indices.data_ptr<int64_t>();
    const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, height * width));
    at::parallel_for(0, planes, grain, [&](int64_t begin, int64_t end) {
      const bool two_by_two = kernel == 2 && stride == 2 && padding == 0;
      for (int64_t plane = begin; plane < end; ++plane) {
        const float* plane_in = in + plane * height * width;
        float* plane_out = out + plane * out_height * out_width;
        int64_t* plane_index = index + plane * out_height * out_width;
        if (two_by_two) {
          pool_plane_2x2(plane_in, height, width, plane_out, plane_index, out_height, out_width);
        } else {
          pool_plane(plane_in, height, width, window, plane_out, plane_index, out_height, out_width);
        }
      }
    });
    context->save_for_backward({x, indices});
    context->saved_data["kernel"] = kernel;
    context->saved_data["stride"] = stride;
    context->saved_data["padding"] = padding;
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list gradients) {
    const auto saved = context->get_saved_variables();
    const int64_t kernel = context->saved_data["kernel"].toInt();
    const int64_t stride = context->saved_data["stride"].toInt();
    const int64_t padding = context->saved_data["padding"].toInt();
    torch::Tensor input_gradient =
        at::max_pool2d_with_indices_backward(gradients.at(0), saved.at(0), {kernel, kernel}, {stride, stride},
                                             {padding, padding}, {1, 1}, false, saved.at(1));
    return {input_gradient, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0) return x;
  if (x.scalar_type() != torch::kFloat || !x.device().is_cpu() || p >= 1) {
    return torch::dropout(x, p, training);
  }
  return x * dropout_mask(x, p);
}

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  // torch checks the window and refuses what it cannot pool; an index outside its plane, from a
  // window lying wholly in the padding, must never reach torch's unchecked backward.
  const bool window_fits = kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel &&
                           x.dim() == 4 && x.size(2) + 2 * padding >= kernel &&
                           x.size(3) + 2 * padding >= kernel;
  if (!window_fits || x.scalar_type() != torch::kFloat || !x.device().is_cpu() || !x.is_contiguous()) {
    return torch::max_pool2d(x, {kernel, kernel}, {stride, stride}, {padding, padding}, {1, 1}, false);
  }
  return MaxPool2dFunction::apply(x, kernel, stride, padding);
}

}  // namespace mlc::compute
