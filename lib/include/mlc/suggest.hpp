// "Did you mean ...?": the name a user most likely meant when they typed one that does not exist
// (a subcommand, a flag, a config key). One measure for all of them, so that they agree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlc {

// The number of single-byte insertions, deletions, substitutions and swaps of two adjacent bytes
// that turn `a` into `b` (the optimal string alignment distance): "lst" -> "list" is 1, "lsit" ->
// "list" is 1, "" -> "abc" is 3. Case-sensitive; bytes, not characters (names are ASCII).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `typed` most likely meant, or nullopt when none is close enough to be worth
// saying: the one candidate that `typed` is a prefix of, when exactly one is ("hist" -> "history",
// though "list" is one edit away); else the nearest one by edit_distance when it is at most 2
// edits away and the edits are fewer than `typed` has bytes (so "ab" suggests nothing for "xy").
// Ties go to the earlier candidate. `typed` itself among the candidates is never suggested.
std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& candidates);

// "; did you mean 'SUGGESTION'?" for the nearest_name of `typed`, or "" when there is none: the
// tail mlc's messages put after "unknown ... 'TYPED'".
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace mlc
