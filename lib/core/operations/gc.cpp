#include <chrono>
#include <set>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/writer_lock.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// Ten years: beyond any sensible grace period, and far from where the file clock's int64
// nanoseconds (about 292 years) overflow; an overflowed cutoff once lay in the future, so that
// a huge --min-age deleted fresh files.

bool is_sha256_name(const std::string& name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A store file being written by put() (or left by a killed one): ".put.tmp-<hex>", and the
// ".<name>.tmp-<hex>" of earlier versions of mlc.
bool is_temporary_name(const std::string& name) {
  return name[0] == '.' && name.find(".tmp-") != std::string::npos;
}

int64_t size_of(const fs::path& path) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) {
    const auto size = fs::file_size(path, error);
    return error ? 0 : static_cast<int64_t>(size);
  }
  int64_t total = 0;
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file()) total += static_cast<int64_t>(it->file_size());
  }
  return total;
}

// Marks the retired versions not marked yet as purged; call inside a transaction.
std::vector<std::string> mark_retired_purged(const Session& session, Catalog& catalog) {
  std::vector<std::string> marked;
  for (const auto& version : catalog.all_versions()) {
    if (version.state != State::retired || version.artifacts_purged_at) continue;
    marked.push_back(detail::subject(version));
    catalog.mark_artifacts_purged(version, detail::note_for(session, "artifacts deleted by gc --purge-retired"));
  }
  return marked;
}

}  // namespace

GcOutcome collect_garbage(const Session& session, const GcOptions& options) {
  if (options.min_age_seconds < 0 || options.min_age_seconds > kMaxGcMinAgeSeconds) {
    throw Error(ErrorKind::usage, fmt::format("--min-age {} is out of range: 0 to {} seconds (10 years)",
                                              options.min_age_seconds, kMaxGcMinAgeSeconds));
  }
  Catalog catalog(session.home, Catalog::Mode::existing);
  const Deployer deployer(session.home.deployments_dir());
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(options.min_age_seconds);
  auto old_enough = [&](const fs::path& path) {
    std::error_code error;
    const auto written = fs::last_write_time(path, error);
    return !error && written <= cutoff;
  };

  GcOutcome outcome;
  // The retired versions whose files go are marked in a transaction of their own that commits
  // before any file is deleted: a gc killed while deleting leaves versions marked purged with some
  // files left, which the next gc deletes (and verify does not ask for); never a version still
  // recorded as having files that are gone.
  if (options.purge_retired && !options.dry_run) {
    outcome.purged_versions = catalog.in_transaction([&] { return mark_retired_purged(session, catalog); });
  }

  auto remove = [&](const fs::path& path, const std::string& why) {
    const int64_t bytes = size_of(path);
    outcome.removed.push_back({path, why, bytes});
    outcome.bytes += bytes;
    if (options.dry_run) return;
    std::error_code error;
    fs::remove_all(path, error);
    if (error) throw Error(ErrorKind::catalog, "cannot remove " + path.string() + ": " + error.message());
  };
  // Age alone cannot tell a dead process's temporary file from one a live process is still
  // writing (a train may take longer than any --min-age): a live writer holds its flock, so gc
  // deletes only what it can lock, and keeps the lock while deleting (writer_lock.hpp).
  auto remove_temporary = [&](const fs::path& path) {
    if (!old_enough(path)) return;
    if (const auto lock = lock_abandoned(path)) remove(path, "temporary");
  };

  // Under the write lock: no version can start referencing a file while it is being deleted, and
  // train, export and register check under this lock that their files are still there
  // (ArtifactStore::ensure_stored), putting them again if not.
  {
    Catalog::Transaction transaction(catalog);
    // A dry run marks the retired versions in this transaction, which it rolls back, so that the
    // catalogue's one account of what is referenced says what a real run would delete.
    if (options.purge_retired && options.dry_run) outcome.purged_versions = mark_retired_purged(session, catalog);
    // Files of purged versions are deleted whatever their age: they are committed, so no command
    // can be about to reference them without ensure_stored() under this lock.
    const std::set<std::string> kept = catalog.referenced_artifacts();
    const std::set<std::string> purged = catalog.purged_artifacts();

    // The directories scanned are proven inside the home (not links); the scan follows no link
    // below them, and deleting a link found there deletes the link, not what it points to.
    const fs::path root = session.home.artifacts_dir() / "sha256";
    check_inside_home(session.home, root);
    check_inside_home(session.home, session.home.tmp_dir());
    std::error_code error;
    for (fs::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
      if (!it->is_regular_file()) continue;
      const fs::path path = it->path();
      const std::string name = path.filename().string();
      if (is_temporary_name(name)) {
        remove_temporary(path);
      } else if (!is_sha256_name(name) || kept.count(name) != 0) {
        continue;
      } else if (purged.count(name) != 0) {
        remove(path, "retired");
      } else if (old_enough(path)) {
        remove(path, "unreferenced");
      }
    }

    std::error_code tmp_error;
    for (fs::directory_iterator it(session.home.tmp_dir(), tmp_error), end; !tmp_error && it != end;
         it.increment(tmp_error)) {
      remove_temporary(it->path());
    }

    for (const auto& [target, model] : deployer.interrupted()) {
      if (options.dry_run) {
        for (const auto& path : deployer.leftovers(target, model)) remove(path, "interrupted_deployment");
      } else {
        for (const auto& path : deployer.leftovers(target, model)) {
          const int64_t bytes = size_of(path);
          outcome.removed.push_back({path, "interrupted_deployment", bytes});
          outcome.bytes += bytes;
        }
        detail::recover_deployment(session, catalog, target, model);
      }
    }
    if (!options.dry_run) transaction.commit();
  }
  return outcome;
}

}  // namespace mlc
