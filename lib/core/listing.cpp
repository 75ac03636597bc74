#include "mlc/listing.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace {

// A metric to sort by; a value that is not finite counts as missing, so that the order is strict.
std::optional<double> value_of(const ListedVersion& version, const std::string& metric) {
  const auto found = version.metrics.find(metric);
  if (found == version.metrics.end() || !std::isfinite(found->second)) return std::nullopt;
  return found->second;
}

}  // namespace

const std::vector<std::string>& headline_metrics() {
  static const std::vector<std::string> metrics{"accuracy", "rmse"};
  return metrics;
}

std::optional<Headline> headline(const ListedVersion& version) {
  for (const auto& metric : headline_metrics()) {
    const auto found = version.metrics.find(metric);
    if (found != version.metrics.end()) {
      return Headline{metric, found->second, version.evaluation_origin == "manifest"};
    }
  }
  return std::nullopt;
}

bool lower_is_better(const std::string& metric) {
  return metric == "loss" || metric == "rmse" || metric == "mae" || metric == "ece";
}

void check_list_order(const ListOrder& order) {
  if (order.limit && *order.limit < 1) {
    throw Error(ErrorKind::usage, fmt::format("--limit must be at least 1, not {}", *order.limit));
  }
  if (order.sort.empty() || printable(order.sort) != order.sort) {
    throw Error(ErrorKind::usage,
                fmt::format("--sort takes name, created or a metric name (e.g. accuracy, rmse), not '{}'",
                            printable(order.sort)));
  }
}

std::vector<ListedVersion> arrange(std::vector<ListedVersion> versions, const ListOrder& order) {
  const auto by_name = [](const ListedVersion& a, const ListedVersion& b) {
    return std::tie(a.version.model, a.version.version) < std::tie(b.version.model, b.version.version);
  };
  const auto by_creation = [](const ListedVersion& a, const ListedVersion& b) {
    return std::tie(a.version.created_at, a.version.id) < std::tie(b.version.created_at, b.version.id);
  };
  const bool by_metric = order.sort != "name" && order.sort != "created";
  // By name or creation, --limit keeps the newest; by a metric, the best (after sorting, below).
  if (!by_metric && order.limit && static_cast<size_t>(*order.limit) < versions.size()) {
    std::sort(versions.begin(), versions.end(), by_creation);
    versions.erase(versions.begin(), versions.end() - *order.limit);
  }
  if (order.sort == "name") {
    std::sort(versions.begin(), versions.end(), by_name);
  } else if (order.sort == "created") {
    std::sort(versions.begin(), versions.end(), by_creation);
  } else {
    const std::string& metric = order.sort;
    const bool ascending = lower_is_better(metric);
    std::stable_sort(versions.begin(), versions.end(), by_name);
    std::stable_sort(versions.begin(), versions.end(), [&](const ListedVersion& a, const ListedVersion& b) {
      const std::optional<double> x = value_of(a, metric);
      const std::optional<double> y = value_of(b, metric);
      if (!x || !y) return x && !y;
      return ascending ? *x < *y : *x > *y;
    });
    if (order.limit && static_cast<size_t>(*order.limit) < versions.size()) versions.resize(*order.limit);
  }
  return versions;
}

}  // namespace mlc
