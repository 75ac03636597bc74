// Relative gates (eval --gate 'accuracy>=@production-0.005') and the policy's
// requires_better_than compare a version's evaluation with one of another version: only one made
// on the same data may be compared, never a number measured on other rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mlc/catalog.hpp"

namespace mlc {

// Whether two evaluations measured the same samples: both measured by mlc (a manifest's metrics
// name no data) with equal data fingerprints (the files by sha256, wherever they lie, and the
// rows of them: a CSV's test split and the whole file differ, as do splits by other seeds).
// Evaluations recorded before catalogue schema version 4 have no fingerprint and match nothing.
bool same_data(const EvaluationRecord& a, const EvaluationRecord& b);

// The newest evaluation of the version `version_id` on the same data as `like`, if any.
std::optional<EvaluationRecord> comparable_evaluation(const Catalog& catalog, int64_t version_id,
                                                      const EvaluationRecord& like);

// How a relative comparison reads, values to 6 significant digits:
// "accuracy = 0.861 vs production's fmnist:3 0.874 (-0.013)".
std::string comparison_text(const std::string& metric, double value, const std::string& target,
                            const std::string& model, int64_t version, double baseline_value);

// A relative threshold as written: "@production", "@production-0.005", "@production+0.01".
std::string relative_threshold_text(const std::string& target, double margin);

}  // namespace mlc
