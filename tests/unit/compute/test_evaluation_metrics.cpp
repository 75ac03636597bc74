#include "torch_doctest.hpp"

#include <cmath>

#include <torch/torch.h>

#include "evaluation_metrics.hpp"
#include "mlc/error.hpp"

using mlc::compute::classification_measures;
using mlc::compute::residual_quantiles;

namespace {

torch::Tensor logits_of(std::vector<std::vector<float>> rows) {
  std::vector<torch::Tensor> tensors;
  for (auto& row : rows) tensors.push_back(torch::tensor(row));
  return torch::stack(tensors);
}

}  // namespace

TEST_CASE("classification_measures: per-class metrics, F1 averages and top-k, worked by hand") {
  // Truth a, a, b, c; predicted a, b, b, a. Class d occurs nowhere.
  const torch::Tensor logits = logits_of({{2, 1, 0, -5}, {0, 3, 1, -5}, {0, 2, 0, -5}, {1, 0, 0.5f, -5}});
  const torch::Tensor targets = torch::tensor(std::vector<int64_t>{0, 0, 1, 2});
  const auto measures = classification_measures(logits, targets, {"a", "b", "T-shirt/top", "d"}, 2);
  CHECK(measures.confusion_matrix ==
        std::vector<std::vector<int64_t>>{{1, 1, 0, 0}, {0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}});
  const auto& m = measures.metrics;
  CHECK(m.at("precision[a]") == 0.5);
  CHECK(m.at("recall[a]") == 0.5);
  CHECK(m.at("f1[a]") == 0.5);
  CHECK(m.at("support[a]") == 2);
  CHECK(m.at("precision[b]") == 0.5);
  CHECK(m.at("recall[b]") == 1);
  CHECK(m.at("f1[b]") == doctest::Approx(2.0 / 3).epsilon(1e-15));
  CHECK(m.at("precision[T-shirt/top]") == 0);  // never predicted: 0, as zero_division=0
  CHECK(m.at("recall[T-shirt/top]") == 0);
  CHECK(m.at("support[d]") == 0);
  // d occurs in neither the truth nor the predictions: left out of the macro average.
  CHECK(m.at("f1_macro") == doctest::Approx((0.5 + 2.0 / 3) / 3).epsilon(1e-15));
  CHECK(m.at("f1_weighted") == doctest::Approx((2 * 0.5 + 2.0 / 3) / 4).epsilon(1e-15));
  CHECK(m.at("top2_accuracy") == 0.75);  // sample 2: b and c score above a
  CHECK(m.count("top1_accuracy") == 0);
  CHECK(m.size() == 4 * 4 + 4);  // per class, f1_macro, f1_weighted, top2_accuracy, ece

  SUBCASE("no top-k accuracy when K is 0") {
    const auto without = classification_measures(logits, targets, {"a", "b", "c", "d"}, 0);
    CHECK(without.metrics.size() == 4 * 4 + 3);
  }
  SUBCASE("a K of the classes or more, or names that do not fit, are the caller's error") {
    CHECK_THROWS_AS(classification_measures(logits, targets, {"a", "b", "c", "d"}, 4), mlc::Error);
    CHECK_THROWS_AS(classification_measures(logits, targets, {"a", "b", "c"}, 1), mlc::Error);
  }
}

TEST_CASE("classification_measures: expected calibration error over 15 bins") {
  // Two samples at confidence 0.75 (bin 12), both right; two at 0.5 (bin 8), one right.
  const float log3 = std::log(3.0f);
  const torch::Tensor logits = logits_of({{log3, 0}, {0, log3}, {0, 0}, {0, 0}});
  const torch::Tensor targets = torch::tensor(std::vector<int64_t>{0, 1, 0, 1});
  const auto metrics = classification_measures(logits, targets, {"x", "y"}, 0).metrics;
  // Bin 12: 2/4 * |1 - 0.75|; bin 8: 2/4 * |0.5 - 0.5|.
  CHECK(metrics.at("ece") == doctest::Approx(0.125).epsilon(1e-6));
}

TEST_CASE("residual_quantiles: target - prediction, linearly interpolated") {
  const torch::Tensor outputs = torch::tensor(std::vector<float>{1, 1, 1, 1, 1}).reshape({5, 1});
  const torch::Tensor targets = torch::tensor(std::vector<float>{6, 2, 4, 3, 5});  // residuals 1..5
  const auto metrics = residual_quantiles(outputs, targets);
  CHECK(metrics.at("residual_p05") == doctest::Approx(1.2).epsilon(1e-12));
  CHECK(metrics.at("residual_p25") == 2);
  CHECK(metrics.at("residual_p50") == 3);
  CHECK(metrics.at("residual_p75") == 4);
  CHECK(metrics.at("residual_p95") == doctest::Approx(4.8).epsilon(1e-12));
  CHECK(residual_quantiles(torch::tensor(std::vector<float>{2}), torch::tensor(std::vector<float>{-1}))
            .at("residual_p95") == -3);
}
