// What `mlc list` shows beyond the catalogue's rows: each version's headline metric, and the
// order and number of versions it prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlc/catalog.hpp"

namespace mlc {

// The metrics whose headline list shows, in order of preference: "accuracy" (classifiers),
// "rmse" (regression). Read them with ListFilter::metrics.
const std::vector<std::string>& headline_metrics();

// One number that says how good a version is: the first of headline_metrics() its latest
// evaluation has. self_reported: that evaluation is a registered artifact's manifest, not one mlc
// measured.
struct Headline {
  std::string metric;
  double value = 0;
  bool self_reported = false;
};
// nullopt when the version has no evaluation, or one without a headline metric.
std::optional<Headline> headline(const ListedVersion& version);

// Whether a smaller value of `metric` is better: loss, rmse, mae and ece; every other metric mlc
// records (accuracy, f1, r2, ...) is better larger.
bool lower_is_better(const std::string& metric);

struct ListOrder {
  // "name": by model name, then version (the default). "created": oldest first. Any other word is
  // a metric of the latest evaluation (ListFilter::metrics must name it): best first, versions
  // without it last, ties by name and version.
  std::string sort = "name";
  // Sorted by name or creation: only the newest `limit` versions by creation time (ties: the
  // later recorded), then sorted. Sorted by a metric: the best `limit` ("the 3 best by accuracy").
  // nullopt: all of them.
  std::optional<int64_t> limit;
};

// Throws Error(usage) naming the flag for a limit below 1, or an empty sort key or one with
// control characters.
void check_list_order(const ListOrder& order);

// `versions` (as Catalog::list returns them) limited and sorted as `order` says.
std::vector<ListedVersion> arrange(std::vector<ListedVersion> versions, const ListOrder& order);

}  // namespace mlc
