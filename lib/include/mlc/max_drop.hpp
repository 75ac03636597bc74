// How far a variant may fall behind its version's fp32 export on one metric. mlc export --max-drop
// and a policy's max_variant_drop (policy.hpp) write it alike, METRIC=AMOUNT or METRIC=PERCENT%
// (a fraction of the fp32 value), and judge it alike, on the measurement that export took of both
// files side by side on the version's test split.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlc/compute.hpp"
#include "mlc/error.hpp"

namespace mlc {

struct MaxDrop {
  std::string metric;
  double amount = 0;      // >= 0; a fraction of the fp32 value when `relative`
  bool relative = false;
};

// Parses METRIC=NUMBER or METRIC=NUMBER%. Throws Error(kind) "WHERE 'TEXT': REASON, e.g. ..." for
// anything else: a negative or non-finite number, or a metric that is better neither higher nor
// lower (residual quantiles, class supports), which cannot drop.
MaxDrop parse_max_drop(std::string_view text, std::string_view where, ErrorKind kind);

// As written: "accuracy=0.01", "accuracy=1%".
std::string to_string(const MaxDrop& limit);

struct DropJudgement {
  double fp32 = 0;
  double variant = 0;
  double drop = 0;     // how much worse the variant is (negative: better)
  double allowed = 0;  // the limit in the metric's units
  bool passes() const { return drop <= allowed; }
};
// nullopt when either measurement lacks the metric.
std::optional<DropJudgement> judge_drop(const MaxDrop& limit, const Metrics& fp32, const Metrics& variant);

}  // namespace mlc
