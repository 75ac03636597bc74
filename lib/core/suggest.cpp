#include "mlc/suggest.hpp"

#include <algorithm>

namespace mlc {
namespace {

// More than this many edits and the suggestion is more often wrong than helpful: "gc" is 2 edits
// from "lst" too, but "lst" -> "list" (1) wins; "tran" -> "train" (1); "epoch" -> "epochs" (1).
constexpr size_t kMaxSuggestionEdits = 2;

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: the swap of two adjacent bytes looks two back.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

namespace {

// The one candidate that starts with `typed` and is longer, or nullopt (none, or several: which
// one would be a guess).
std::optional<std::string> only_extension(std::string_view typed, const std::vector<std::string>& candidates) {
  std::optional<std::string> extended;
  for (const auto& candidate : candidates) {
    if (candidate.size() > typed.size() && candidate.compare(0, typed.size(), typed) == 0) {
      if (extended) return std::nullopt;
      extended = candidate;
    }
  }
  return extended;
}

}  // namespace

std::optional<std::string> nearest_name(std::string_view typed,
                                        const std::vector<std::string>& candidates) {
  if (typed.empty()) return std::nullopt;
  // A name cut short is the likelier mistake: "hist" is history, though one edit from "list".
  if (auto extended = only_extension(typed, candidates)) return extended;
  std::optional<std::string> best;
  size_t best_distance = kMaxSuggestionEdits + 1;
  for (const auto& candidate : candidates) {
    if (candidate == typed) continue;
    const size_t distance = edit_distance(typed, candidate);
    if (distance < best_distance && distance < typed.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates) {
  const auto suggestion = nearest_name(typed, candidates);
  return suggestion ? "; did you mean '" + *suggestion + "'?" : std::string();
}

}  // namespace mlc
