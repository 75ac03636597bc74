#include <map>
#include <set>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/policy.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// Who needs each stored file that the catalogue references (Catalog::referenced_artifacts), for
// the messages: "NAME:VERSION" for its checkpoint, export and manifest, "NAME:VERSION variant
// 'X'" for a variant's.
std::map<std::string, std::vector<std::string>> needed_artifacts(const Catalog& catalog,
                                                                 const std::vector<VersionRecord>& versions) {
  std::map<std::string, std::vector<std::string>> needed;
  for (const auto& sha256 : catalog.referenced_artifacts()) needed[sha256];
  auto add = [&](const std::string& sha256, const std::string& who) {
    if (const auto found = needed.find(sha256); found != needed.end()) found->second.push_back(who);
  };
  for (const auto& version : versions) {
    // Marked before gc deletes them, so some may remain if gc was killed: the next gc deletes them.
    if (version.artifacts_purged_at) continue;
    const std::string who = detail::subject(version);
    add(version.checkpoint_sha256, who);
    if (version.model_sha256) add(*version.model_sha256, who);
    if (version.manifest_sha256) add(*version.manifest_sha256, who);
    std::vector<VariantRecord> variants;
    try {
      variants = catalog.variants(version.id);
    } catch (const Error& e) {  // a row mlc cannot read (reported as such): its files are checked
      if (e.kind() != ErrorKind::catalog) throw;  // all the same, under a plainer name
    }
    for (const auto& variant : variants) {
      const std::string variant_who = fmt::format("{} variant '{}'", who, variant.name);
      add(variant.model_sha256, variant_who);
      add(variant.manifest_sha256, variant_who);
    }
  }
  for (auto& [sha256, users] : needed) {
    if (users.empty()) users.push_back("a variant whose catalogue row cannot be read");
  }
  return needed;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// Finishes interrupted deployment changes, then checks every stored artifact and deployment
// directory against the catalogue. Call inside a transaction.
void check_store_and_deployments(const Session& session, const Catalog& catalog, VerifyReport& report) {
  const ArtifactStore store = detail::artifact_store(session);
  const Deployer deployer(session.home.deployments_dir());
  for (const auto& [target, model] : deployer.interrupted()) {
    if (detail::recover_deployment(session, catalog, target, model)) {
      const auto id = catalog.model_id(model);
      const auto now = id ? catalog.deployed_on(*id, target) : std::nullopt;
      report.recovered.push_back(
          fmt::format("{}/{}: an interrupted change was finished; it holds {}", target, model,
                      now ? detail::subject(*now) : std::string("nothing, as the catalogue says")));
    }
  }

  const auto versions = catalog.all_versions();
  report.versions = static_cast<int64_t>(versions.size());
  for (const auto& [sha256, users] : needed_artifacts(catalog, versions)) {
    ++report.artifacts;
    const fs::path file = store.path_of(sha256);
    try {
      check_inside_home(session.home, file);  // never hash what a link inside the store points at
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::integrity) throw;
      report.problems.push_back({"artifact_corrupt", joined(users),
                                 fmt::format("{} (needed by {})", e.what(), joined(users))});
      continue;
    }
    if (!fs::exists(file)) {
      report.problems.push_back({"artifact_missing", joined(users),
                                 fmt::format("{} is missing (needed by {})", file.string(), joined(users))});
    } else if (const std::string actual = sha256_file(file); actual != sha256) {
      report.problems.push_back({"artifact_corrupt", joined(users),
                                 fmt::format("{} is corrupt: its sha256 is {} (needed by {})",
                                             file.string(), actual, joined(users))});
    }
  }

  std::set<std::pair<std::string, std::string>> recorded;
  for (const auto& deployment : catalog.deployments()) {
    ++report.deployments;
    recorded.emplace(deployment.target, deployment.model);
    const VersionRecord version = catalog.version_by_id(deployment.version_id);
    const std::string where = deployment.target + "/" + deployment.model;
    for (const auto& problem :
         deployer.mismatches(deployment.target, deployment.model,
                             detail::deployment_files(store, catalog, version, deployment.variant))) {
      report.problems.push_back({"deployment", where,
                                 fmt::format("{} ({} deployed): {}", deployer.directory(deployment.target, deployment.model).string(),
                                             detail::subject(version), problem)});
    }
  }
  for (const auto& [target, model] : deployer.directories()) {
    if (recorded.count({target, model}) != 0) continue;
    const fs::path directory = deployer.directory(target, model);
    std::error_code unreadable;
    if (fs::is_directory(directory) && fs::is_empty(directory, unreadable)) continue;
    if (unreadable) {
      throw Error(ErrorKind::catalog, "cannot read " + directory.string() + ": " + unreadable.message());
    }
    report.problems.push_back({"unrecorded_deployment", target + "/" + model,
                               fmt::format("{}: the catalogue has no version of {} deployed to {}",
                                           directory.string(), model, target)});
  }
}

}  // namespace

VerifyReport verify_home(const Session& session) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  VerifyReport report;

  // Under the write lock throughout: no deploy can change a directory between reading the
  // catalogue and reading the files, and leftovers of a change can only be a dead process's.
  catalog.in_transaction([&] {
    report.integrity = catalog.integrity_check();
    if (report.integrity != "ok") report.problems.push_back({"catalogue", "catalog.db", report.integrity});
    const auto unreadable = catalog.unreadable_rows();
    for (const auto& row : unreadable) report.problems.push_back({"catalogue", "catalog.db", row});
    try {
      check_store_and_deployments(session, catalog, report);
    } catch (const Error& e) {
      // The checks read every version: one of the rows reported above stopped them.
      if (e.kind() != ErrorKind::catalog || unreadable.empty()) throw;
    }
  });

  try {
    load_policy(session.home);
  } catch (const Error& e) {
    report.problems.push_back({"policy", policy_file(session.home).string(), e.what()});
  }
  return report;
}

}  // namespace mlc
