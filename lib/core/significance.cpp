#include "mlc/significance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc {
namespace {

void check_paired(size_t a, size_t b) {
  if (a != b) {
    throw Error(ErrorKind::internal,
                fmt::format("paired test on {} and {} outcomes: the samples must be the same", a, b));
  }
}

// log|Gamma(x)|; lgamma_r rather than std::lgamma, which writes the global signgam (a data race
// when two threads compare).
double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// log of n choose k.
double log_choose(int64_t n, int64_t k) {
  return log_gamma(static_cast<double>(n) + 1) - log_gamma(static_cast<double>(k) + 1) -
         log_gamma(static_cast<double>(n - k) + 1);
}

// The continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double result = d;
  // One term of the fraction: updates c and d, returns the factor it multiplies the result by.
  const auto apply = [&](double step) {
    d = 1 + step * d;
    c = 1 + step / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    return d * c;
  };
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    result *= apply(m * (b - m) * x / ((a + m2 - 1) * (a + m2)));
    const double delta = apply(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)));
    result *= delta;
    if (std::fabs(delta - 1) < kEpsilon) break;
  }
  return result;
}

// I_x(a, b), the regularized incomplete beta function.
double regularized_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(log_gamma(a + b) - log_gamma(a) - log_gamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

}  // namespace

PairedTest mcnemar_test(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct) {
  check_paired(a_correct.size(), b_correct.size());
  PairedTest test;
  test.name = "mcnemar_exact";
  test.why = "both classifiers were tested on the same samples, so their right/wrong outcomes are "
             "paired; McNemar's test looks only at the samples where exactly one of them is right, "
             "and its exact (binomial) form holds at any count";
  test.samples = static_cast<int64_t>(a_correct.size());
  for (size_t i = 0; i < a_correct.size(); ++i) {
    if (a_correct[i] && !b_correct[i]) ++test.only_a_right;
    if (!a_correct[i] && b_correct[i]) ++test.only_b_right;
  }
  const int64_t n = test.only_a_right + test.only_b_right;
  if (n == 0) return test;  // they agree on every sample: no evidence either way, p = 1
  const int64_t k = std::min(test.only_a_right, test.only_b_right);
  const double gap = std::fabs(static_cast<double>(test.only_a_right - test.only_b_right)) - 1;
  test.statistic = gap <= 0 ? 0 : gap * gap / static_cast<double>(n);
  // 2 P(X <= k): the terms summed from the largest (i = k) down, in logs, so that thousands of
  // discordant samples neither overflow the binomial coefficients nor lose the small terms.
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  double sum = 0;
  for (int64_t i = k; i >= 0; --i) {
    const double term = std::exp(log_choose(n, i) + log_half_n);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  test.p_value = std::min(1.0, 2 * sum);
  return test;
}

double student_t_two_sided_p(double t, double degrees) {
  if (std::isnan(t)) return 1;
  if (std::isinf(t)) return 0;
  return regularized_beta(degrees / 2, 0.5, degrees / (degrees + t * t));
}

PairedTest paired_t_test(const std::vector<double>& a_squared_errors,
                         const std::vector<double>& b_squared_errors) {
  check_paired(a_squared_errors.size(), b_squared_errors.size());
  PairedTest test;
  test.name = "paired_t";
  test.why = "both models were tested on the same samples, so their squared errors are paired; a "
             "paired t-test on the per-sample differences asks whether one has the lower mean "
             "squared error beyond noise";
  test.samples = static_cast<int64_t>(a_squared_errors.size());
  const auto n = static_cast<double>(test.samples);
  // One sample has no variance to test against: no evidence either way (p = 1, no statistic).
  if (test.samples < 2) {
    test.statistic = std::numeric_limits<double>::quiet_NaN();
    return test;
  }
  double mean = 0;
  for (size_t i = 0; i < a_squared_errors.size(); ++i) mean += a_squared_errors[i] - b_squared_errors[i];
  mean /= n;
  double squares = 0;
  for (size_t i = 0; i < a_squared_errors.size(); ++i) {
    const double deviation = a_squared_errors[i] - b_squared_errors[i] - mean;
    squares += deviation * deviation;
  }
  test.mean_difference = mean;
  const double standard_error = test.samples > 1 ? std::sqrt(squares / (n - 1) / n) : 0;
  if (!(standard_error > 0)) {
    test.p_value = mean == 0 ? 1 : 0;
    test.statistic = mean == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), mean);
    return test;
  }
  test.statistic = mean / standard_error;
  test.p_value = student_t_two_sided_p(test.statistic, n - 1);
  return test;
}

}  // namespace mlc
