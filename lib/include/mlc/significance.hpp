// Paired significance tests between two versions measured on the same samples (mlc compare).
// Both take each sample's outcome in the same order, so the pairing is by sample.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlc {

struct PairedTest {
  std::string name;  // "mcnemar_exact" or "paired_t"
  std::string why;   // one sentence: why this test for these outcomes
  int64_t samples = 0;
  // McNemar: the discordant pairs, the only samples it looks at.
  int64_t only_a_right = 0;
  int64_t only_b_right = 0;
  // McNemar: the continuity-corrected chi-square, (|b - c| - 1)^2 / (b + c), reported beside the
  // exact p-value for those who know it; the paired t-test: t, with samples - 1 degrees of freedom.
  double statistic = 0;
  double mean_difference = 0;  // paired t: mean of A's squared error minus B's
  double p_value = 1;          // two-sided
};

// McNemar's test on two classifiers' right/wrong outcomes, in its exact form: under "equally
// good", each of the b + c samples that exactly one of them got right is A's with probability 1/2,
// so p = min(1, 2 P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2). Exact at any count, where the
// chi-square approximation needs b + c of 25 or more. Throws Error(internal) for lengths that
// differ.
PairedTest mcnemar_test(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct);

// A two-sided paired t-test on two regression models' squared errors (per sample, A minus B):
// whether one has the lower mean squared error beyond noise. Fewer than 2 samples: p = 1 and a NaN
// statistic (nothing to test). No variation in the differences: p is 1 when they are all 0 and 0
// otherwise (t is infinite), as scipy.stats.ttest_rel has it.
PairedTest paired_t_test(const std::vector<double>& a_squared_errors,
                         const std::vector<double>& b_squared_errors);

// The two-sided p-value of Student's t with `degrees` degrees of freedom (regularized incomplete
// beta, Lentz's continued fraction).
double student_t_two_sided_p(double t, double degrees);

}  // namespace mlc
