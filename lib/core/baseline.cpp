#include "mlc/baseline.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace mlc {
namespace {

// The (role, sha256) pairs of an evaluation's files, sorted: what the data is, wherever it lies.
std::vector<std::pair<std::string, std::string>> fingerprints(const EvaluationRecord& evaluation) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& file : evaluation.data_files) pairs.emplace_back(file.role, file.sha256);
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

}  // namespace

bool same_data(const EvaluationRecord& a, const EvaluationRecord& b) {
  return a.origin == "eval" && b.origin == "eval" && !a.data_files.empty() &&
         a.samples == b.samples && fingerprints(a) == fingerprints(b);
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
