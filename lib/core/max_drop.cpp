#include "mlc/max_drop.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "mlc/listing.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace {

// Residual quantiles and class supports are not better one way or the other: no drop to limit.
bool has_direction(const std::string& metric) {
  return metric.rfind("residual_", 0) != 0 && metric.rfind("support[", 0) != 0;
}

}  // namespace

MaxDrop parse_max_drop(std::string_view text, std::string_view where, ErrorKind kind) {
  const auto refuse = [&](std::string_view why) {
    return Error(kind, fmt::format("{} '{}': {}, e.g. 'accuracy=0.01' or 'accuracy=1%'", where,
                                   printable(std::string(text)), why));
  };
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) throw refuse("expected METRIC=AMOUNT");
  MaxDrop drop;
  drop.metric = std::string(text.substr(0, equals));
  if (!has_direction(drop.metric)) {
    throw Error(kind, fmt::format("{} '{}': {} is neither better higher nor lower, so it cannot drop; "
                                  "limit e.g. accuracy, f1_macro, r2, loss, rmse, mae or ece",
                                  where, printable(std::string(text)), printable(drop.metric)));
  }
  std::string amount(text.substr(equals + 1));
  if (!amount.empty() && amount.back() == '%') {
    drop.relative = true;
    amount.pop_back();
  }
  char* end = nullptr;
  const double value = amount.empty() ? NAN : std::strtod(amount.c_str(), &end);
  if (amount.empty() || end != amount.c_str() + amount.size() || !std::isfinite(value) || value < 0) {
    throw refuse(fmt::format("'{}' is not a number of 0 or more", printable(amount)));
  }
  drop.amount = drop.relative ? value / 100 : value;
  return drop;
}

std::string to_string(const MaxDrop& limit) {
  return limit.relative ? fmt::format("{}={}%", limit.metric, limit.amount * 100)
                        : fmt::format("{}={}", limit.metric, limit.amount);
}

std::optional<DropJudgement> judge_drop(const MaxDrop& limit, const Metrics& fp32, const Metrics& variant) {
  const auto before = fp32.find(limit.metric);
  const auto after = variant.find(limit.metric);
  if (before == fp32.end() || after == variant.end()) return std::nullopt;
  DropJudgement judgement;
  judgement.fp32 = before->second;
  judgement.variant = after->second;
  judgement.drop = lower_is_better(limit.metric) ? after->second - before->second : before->second - after->second;
  judgement.allowed = limit.relative ? limit.amount * std::abs(before->second) : limit.amount;
  return judgement;
}

}  // namespace mlc
