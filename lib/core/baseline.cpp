#include "mlc/baseline.hpp"

#include <utility>

#include <fmt/format.h>

namespace mlc {

bool same_data(const EvaluationRecord& a, const EvaluationRecord& b) {
  return a.origin == "eval" && b.origin == "eval" && !a.data_fingerprint.empty() &&
         a.data_fingerprint == b.data_fingerprint && a.samples == b.samples;
}

std::optional<EvaluationRecord> comparable_evaluation(const Catalog& catalog, int64_t version_id,
                                                      const EvaluationRecord& like) {
  for (EvaluationRecord& evaluation : catalog.evaluations(version_id)) {
    if (same_data(evaluation, like)) return std::move(evaluation);
  }
  return std::nullopt;
}

std::string comparison_text(const std::string& metric, double value, const std::string& target,
                            const std::string& model, int64_t version, double baseline_value) {
  return fmt::format("{} = {:.6g} vs {}'s {}:{} {:.6g} ({:+.6g})", metric, value, target, model,
                     version, baseline_value, value - baseline_value);
}

std::string relative_threshold_text(const std::string& target, double margin) {
  if (margin == 0) return "@" + target;
  return fmt::format("@{}{:+.6g}", target, margin);
}

}  // namespace mlc
