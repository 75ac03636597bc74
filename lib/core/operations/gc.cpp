#include <chrono>
#include <set>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

bool is_sha256_name(const std::string& name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
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

}  // namespace

GcOutcome collect_garbage(const Session& session, const GcOptions& options) {
  if (options.min_age_seconds < 0) throw Error(ErrorKind::usage, "--min-age must be >= 0");
  Catalog catalog(session.home, Catalog::Mode::existing);
  const ArtifactStore store = detail::artifact_store(session);
  const Deployer deployer(session.home.deployments_dir());
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(options.min_age_seconds);
  auto old_enough = [&](const fs::path& path) {
    std::error_code error;
    const auto written = fs::last_write_time(path, error);
    return !error && written <= cutoff;
  };

  GcOutcome outcome;
  auto remove = [&](const fs::path& path, const std::string& why) {
    const int64_t bytes = size_of(path);
    outcome.removed.push_back({path, why, bytes});
    outcome.bytes += bytes;
    if (options.dry_run) return;
    std::error_code error;
    fs::remove_all(path, error);
    if (error) throw Error(ErrorKind::internal, "cannot remove " + path.string() + ": " + error.message());
  };

  // Under the write lock: no version can start referencing a file while it is being deleted
  // (and train, export and register check under this lock that their files are still there).
  catalog.in_transaction([&] {
    std::set<std::string> kept, retired_only;
    for (const auto& version : catalog.all_versions()) {
      const bool keep = version.state != State::retired || !options.purge_retired;
      for (const auto* sha256 : {&version.checkpoint_sha256,
                                 version.model_sha256 ? &*version.model_sha256 : nullptr,
                                 version.manifest_sha256 ? &*version.manifest_sha256 : nullptr}) {
        if (sha256 == nullptr || sha256->empty()) continue;
        (keep ? kept : retired_only).insert(*sha256);
      }
    }

    const fs::path root = session.home.artifacts_dir() / "sha256";
    std::set<std::string> deleted;
    std::error_code error;
    for (fs::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
      if (!it->is_regular_file()) continue;
      const fs::path path = it->path();
      const std::string name = path.filename().string();
      if (!old_enough(path)) continue;
      if (!is_sha256_name(name)) {
        if (name[0] == '.' && name.find(".tmp-") != std::string::npos) remove(path, "temporary");
        continue;
      }
      if (kept.count(name) != 0) continue;
      remove(path, retired_only.count(name) != 0 ? "retired" : "unreferenced");
      deleted.insert(name);
    }

    std::error_code tmp_error;
    for (fs::directory_iterator it(session.home.tmp_dir(), tmp_error), end; !tmp_error && it != end;
         it.increment(tmp_error)) {
      if (old_enough(it->path())) remove(it->path(), "temporary");
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

    if (!options.purge_retired) return;
    for (const auto& version : catalog.all_versions()) {
      if (version.state != State::retired || version.artifacts_purged_at) continue;
      const bool touched = deleted.count(version.checkpoint_sha256) != 0 ||
                           (version.model_sha256 && deleted.count(*version.model_sha256) != 0) ||
                           (version.manifest_sha256 && deleted.count(*version.manifest_sha256) != 0);
      if (!touched) continue;
      outcome.purged_versions.push_back(detail::subject(version));
      if (!options.dry_run) {
        catalog.mark_artifacts_purged(version, detail::note_for(session, "artifacts deleted by gc --purge-retired"));
      }
    }
  });
  return outcome;
}

}  // namespace mlc
