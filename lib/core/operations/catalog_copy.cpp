#include <filesystem>
#include <string>

#include "mlc/catalog.hpp"
#include "mlc/catalog_url.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"

namespace mlc {

CatalogCopyReport copy_catalog(const Session& session, const std::string& to) {
  if (to.empty()) {
    throw Error(ErrorKind::usage, "catalog copy --to: name the catalogue to fill (a postgresql:// URL)");
  }
  if (to == session.home.catalog) {
    throw Error(ErrorKind::usage, "catalog copy --to " + without_passwords(to) + ": that is the catalogue to copy from");
  }
  if (session.home.catalog.empty() && !std::filesystem::exists(session.home.catalog_file())) {
    throw Error(ErrorKind::not_found, "no catalogue to copy: " + session.home.catalog_file().string() + " does not exist");
  }
  const Catalog source(session.home, Catalog::Mode::existing);
  // A value mlc cannot read back would be copied as something else (SQLite's 'abc' in an INTEGER
  // column reads as 0): such a catalogue is repaired first, not moved.
  if (const auto unreadable = source.unreadable_rows(); !unreadable.empty()) {
    throw Error(ErrorKind::catalog, "catalog copy: " + std::to_string(unreadable.size()) +
                                        " rows of the catalogue cannot be read back (mlc verify lists them), "
                                        "the first: " + unreadable.front());
  }
  Home target_home = session.home;
  target_home.catalog = to;
  Catalog target(target_home, Catalog::Mode::existing);
  CatalogCopyReport report;
  report.from = source.location();
  report.to = target.location();
  report.tables = source.copy_into(target);
  return report;
}

}  // namespace mlc
