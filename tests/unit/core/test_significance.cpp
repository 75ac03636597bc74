#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "mlc/error.hpp"
#include "mlc/significance.hpp"

namespace {

// Outcomes with `both` samples both right, `only_a` only A right, `only_b` only B right, `neither`.
std::pair<std::vector<bool>, std::vector<bool>> outcomes(int both, int only_a, int only_b, int neither) {
  std::vector<bool> a, b;
  auto add = [&](int count, bool a_right, bool b_right) {
    for (int i = 0; i < count; ++i) a.push_back(a_right), b.push_back(b_right);
  };
  add(both, true, true), add(only_a, true, false), add(only_b, false, true), add(neither, false, false);
  return {a, b};
}

}  // namespace

TEST_CASE("mcnemar_test: the exact two-sided p of the discordant pairs") {
  SUBCASE("10 against 2, checked by hand: 2 (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 158/4096") {
    const auto [a, b] = outcomes(80, 10, 2, 8);
    const mlc::PairedTest test = mlc::mcnemar_test(a, b);
    CHECK(test.name == "mcnemar_exact");
    CHECK(test.samples == 100);
    CHECK(test.only_a_right == 10);
    CHECK(test.only_b_right == 2);
    CHECK(test.p_value == doctest::Approx(158.0 / 4096).epsilon(1e-12));
    CHECK(test.statistic == doctest::Approx(49.0 / 12));  // (|10 - 2| - 1)^2 / 12
    CHECK(mlc::mcnemar_test(b, a).p_value == doctest::Approx(test.p_value).epsilon(1e-12));  // symmetric
  }
  SUBCASE("equal counts, or no disagreement: p = 1") {
    const auto [a, b] = outcomes(5, 3, 3, 1);
    CHECK(mlc::mcnemar_test(a, b).p_value == doctest::Approx(1.0));
    const auto [c, d] = outcomes(7, 0, 0, 3);
    CHECK(mlc::mcnemar_test(c, d).p_value == 1.0);
    CHECK(mlc::mcnemar_test(c, d).statistic == 0.0);
  }
  SUBCASE("thousands of discordant pairs: no overflow; 1 of 1 is p = 1") {
    const auto [a, b] = outcomes(0, 3000, 2800, 0);
    // scipy.stats.binomtest(2800, 5800, 0.5).pvalue
    CHECK(mlc::mcnemar_test(a, b).p_value == doctest::Approx(0.008969436001).epsilon(1e-9));
    const auto [c, d] = outcomes(0, 1, 0, 0);
    CHECK(mlc::mcnemar_test(c, d).p_value == doctest::Approx(1.0));
  }
  CHECK_THROWS_AS(mlc::mcnemar_test({true}, {true, false}), mlc::Error);
}

TEST_CASE("paired_t_test on squared errors") {
  SUBCASE("against values from scipy.stats.ttest_rel") {
    // ttest_rel([1, 2, 3, 4, 5], [1.5, 2.5, 2, 5, 6]): t = -1.088662107903635, p = 0.33750185654036463
    const mlc::PairedTest test = mlc::paired_t_test({1, 2, 3, 4, 5}, {1.5, 2.5, 2, 5, 6});
    CHECK(test.name == "paired_t");
    CHECK(test.statistic == doctest::Approx(-1.088662107903635).epsilon(1e-12));
    CHECK(test.p_value == doctest::Approx(0.33750185654036463).epsilon(1e-9));
    CHECK(test.mean_difference == doctest::Approx(-0.4));
  }
  SUBCASE("Student's t tail at large and small degrees of freedom") {
    CHECK(mlc::student_t_two_sided_p(2.0, 1000) == doctest::Approx(0.045770346493251665).epsilon(1e-9));
    CHECK(mlc::student_t_two_sided_p(1.0, 1) == doctest::Approx(0.5).epsilon(1e-9));  // Cauchy
    CHECK(mlc::student_t_two_sided_p(0.0, 7) == doctest::Approx(1.0));
  }
  SUBCASE("no variation in the differences") {
    CHECK(mlc::paired_t_test({1, 2}, {1, 2}).p_value == 1.0);
    CHECK(mlc::paired_t_test({2, 3}, {1, 2}).p_value == 0.0);
  }
  SUBCASE("one sample: nothing to test") {
    const mlc::PairedTest one = mlc::paired_t_test({2}, {1});
    CHECK(one.p_value == 1.0);
    CHECK(std::isnan(one.statistic));
    CHECK(mlc::paired_t_test({}, {}).p_value == 1.0);
  }
}
