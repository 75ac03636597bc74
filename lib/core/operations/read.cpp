// The read-only commands' queries: mlc list, show and history (operations.hpp).
#include <cstddef>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace {

// The newest `limit` rows, still oldest first.
template <class Row>
std::vector<Row> newest(std::vector<Row> rows, const std::optional<int64_t>& limit) {
  if (limit && *limit >= 0 && static_cast<size_t>(*limit) < rows.size()) {
    rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(*limit));
  }
  return rows;
}

}  // namespace

std::vector<ListedVersion> list_versions(const Session& session, const ListFilter& filter, const ListOrder& order) {
  check_list_order(order);
  const Catalog catalog(session.home, Catalog::Mode::existing);
  if (filter.model && !catalog.model_id(*filter.model)) {
    throw Error(ErrorKind::not_found, "no model named '" + *filter.model + "'");
  }
  return arrange(catalog.list(filter), order);
}

VersionDetail show_version(const Session& session, const Reference& ref) {
  const Catalog catalog(session.home, Catalog::Mode::existing);
  VersionDetail detail;
  detail.version = catalog.resolve(ref);
  detail.epochs = catalog.epochs(detail.version.id);
  detail.evaluation = catalog.latest_evaluation(detail.version.id);
  detail.variants = catalog.variants(detail.version.id);
  return detail;
}

std::vector<HistoryEntry> version_history(const Session& session, const Reference& ref,
                                          std::optional<int64_t> limit) {
  const Catalog catalog(session.home, Catalog::Mode::existing);
  return newest(catalog.history(ref), limit);
}

TargetHistory target_history(const Session& session, const TargetHistoryOptions& options) {
  if (options.ref.kind != Reference::Kind::latest) {
    throw Error(ErrorKind::usage, "history --target takes a model NAME, not '" + options.ref.text + "'");
  }
  check_name(options.target, "target");
  const Catalog catalog(session.home, Catalog::Mode::existing);
  const auto model_id = catalog.model_id(options.ref.model);
  if (!model_id) throw Error(ErrorKind::not_found, "no model named '" + options.ref.model + "'");
  std::vector<TargetChange> log = catalog.target_log(*model_id, options.target);
  if (log.empty()) {
    throw Error(ErrorKind::not_found,
                fmt::format("model '{}' was never deployed to '{}'", options.ref.model, options.target));
  }
  TargetHistory history;
  history.first_change_at = log.front().at;
  if (options.at) {  // every change counts here, whatever the limit shows
    for (const TargetChange& change : log) {
      if (change.at <= *options.at) history.held_at = change;
    }
  }
  history.changes = newest(std::move(log), options.limit);
  return history;
}

}  // namespace mlc
