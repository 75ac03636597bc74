#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <set>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"
#include "mlc/writer_lock.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;
using mlc::Catalog;

namespace {

const mlc::TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

// A retired version registered from an artifact, its two files in the store.
mlc::VersionRecord retired_artifact(const mlc::test::TempHome& temp, Catalog& catalog,
                                    const mlc::ArtifactStore& store) {
  mlc::NewVersion version;
  version.model = "m";
  version.origin = mlc::Origin::artifact;
  version.model_sha256 = store.put(temp.write("model.pt", "weights"));
  version.manifest_sha256 = store.put(temp.write("manifest.json", "{}"));
  version.model_info = nlohmann::json::object();
  version.lineage = nlohmann::json::object();
  return catalog.in_transaction([&] {
    auto record = catalog.create_version(version, kNote);
    catalog.record_transition(record, mlc::State::retired, kNote);
    record.state = mlc::State::retired;
    return record;
  });
}

// Makes deleting the entries of `dir` fail while it lives: by permissions, or for root (whom
// permissions do not stop) by the immutable attribute, where the filesystem and capabilities allow.
class Undeletable {
 public:
  explicit Undeletable(fs::path dir) : dir_(std::move(dir)) {
    if (::geteuid() != 0) {
      fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
      works_ = true;
      return;
    }
    fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int flags = 0;
    if (fd_ < 0 || ::ioctl(fd_, FS_IOC_GETFLAGS, &flags) != 0) return;
    flags |= FS_IMMUTABLE_FL;
    works_ = ::ioctl(fd_, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ~Undeletable() {
    if (fd_ >= 0) {
      int flags = 0;
      if (::ioctl(fd_, FS_IOC_GETFLAGS, &flags) == 0) {
        flags &= ~FS_IMMUTABLE_FL;
        ::ioctl(fd_, FS_IOC_SETFLAGS, &flags);
      }
      ::close(fd_);
    } else if (works_) {
      fs::permissions(dir_, fs::perms::owner_all);
    }
  }
  Undeletable(const Undeletable&) = delete;
  Undeletable& operator=(const Undeletable&) = delete;
  bool works() const { return works_; }

 private:
  fs::path dir_;
  int fd_ = -1;
  bool works_ = false;
};

// Records a variant of `version` whose two files are put into the store with these contents.
mlc::VariantRecord stored_variant(const mlc::test::TempHome& temp, Catalog& catalog, const mlc::ArtifactStore& store,
                                  const mlc::VersionRecord& version, const std::string& contents) {
  mlc::VariantRecord variant;
  variant.name = "int8";
  variant.model_sha256 = store.put(temp.write("variant.pt", contents));
  variant.manifest_sha256 = store.put(temp.write("variant.json", "{\"of\": \"" + contents + "\"}"));
  variant.created_at = mlc::utc_now();
  catalog.in_transaction([&] { catalog.record_variant(version, variant, kNote); });
  return variant;
}

}  // namespace

TEST_CASE("gc keeps a variant's files; --purge-retired deletes a retired version's with its own") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  const mlc::ArtifactStore store(temp.home().artifacts_dir());
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto retired = retired_artifact(temp, catalog, store);
  const auto retired_variant = stored_variant(temp, catalog, store, retired, "retired int8");
  mlc::NewVersion live_version;
  live_version.model = "live";
  live_version.origin = mlc::Origin::artifact;
  live_version.model_sha256 = store.put(temp.write("live.pt", "live weights"));
  live_version.manifest_sha256 = store.put(temp.write("live.json", "{\"live\": 1}"));
  live_version.model_info = nlohmann::json::object();
  live_version.lineage = nlohmann::json::object();
  const auto live = catalog.in_transaction([&] { return catalog.create_version(live_version, kNote); });
  const auto live_variant = stored_variant(temp, catalog, store, live, "live int8");
  const std::vector<fs::path> live_files = {store.path_of(*live.model_sha256), store.path_of(*live.manifest_sha256),
                                            store.path_of(live_variant.model_sha256),
                                            store.path_of(live_variant.manifest_sha256)};
  const std::set<fs::path> retired_files = {store.path_of(*retired.model_sha256), store.path_of(*retired.manifest_sha256),
                                            store.path_of(retired_variant.model_sha256),
                                            store.path_of(retired_variant.manifest_sha256)};
  CHECK(mlc::verify_home(session).artifacts == 8);

  mlc::GcOptions options;
  options.min_age_seconds = 0;
  CHECK(mlc::collect_garbage(session, options).removed.empty());

  options.purge_retired = true;
  options.dry_run = true;
  const mlc::GcOutcome dry = mlc::collect_garbage(session, options);
  CHECK(dry.purged_versions == std::vector<std::string>{"m:1"});
  std::set<fs::path> listed;
  for (const auto& removed : dry.removed) {
    CHECK(removed.why == "retired");
    listed.insert(removed.path);
  }
  CHECK(listed == retired_files);
  for (const auto& file : retired_files) CHECK(fs::exists(file));
  CHECK_FALSE(catalog.resolve(mlc::parse_reference("m:1")).artifacts_purged_at.has_value());
  CHECK(catalog.history(mlc::parse_reference("m:1")).back().event == mlc::Event::variant);

  options.dry_run = false;
  const mlc::GcOutcome purged = mlc::collect_garbage(session, options);
  CHECK(purged.purged_versions == std::vector<std::string>{"m:1"});
  CHECK(purged.removed.size() == 4);
  for (const auto& file : retired_files) CHECK_FALSE(fs::exists(file));
  for (const auto& file : live_files) CHECK(fs::exists(file));
  const mlc::VerifyReport report = mlc::verify_home(session);
  CHECK(report.problems.empty());
  CHECK(report.artifacts == 4);
}

TEST_CASE("verify checks a variant's files, naming the version and the variant") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc verify", "host1"};
  const mlc::ArtifactStore store(temp.home().artifacts_dir());
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto version = retired_artifact(temp, catalog, store);
  const auto variant = stored_variant(temp, catalog, store, version, "int8 weights");
  CHECK(mlc::verify_home(session).problems.empty());

  const fs::path model = store.path_of(variant.model_sha256);
  fs::remove(model);
  mlc::VerifyReport report = mlc::verify_home(session);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].kind == "artifact_missing");
  CHECK(report.problems[0].subject == "m:1 variant 'int8'");
  CHECK(report.problems[0].message == model.string() + " is missing (needed by m:1 variant 'int8')");

  mlc::test::write_file(model, "tampered");
  report = mlc::verify_home(session);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].kind == "artifact_corrupt");
  CHECK(report.problems[0].subject == "m:1 variant 'int8'");
}

TEST_CASE("gc finishes a purge that a killed gc left half-done; verify does not ask for the files") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  const mlc::ArtifactStore store(temp.home().artifacts_dir());
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto version = retired_artifact(temp, catalog, store);

  // What a gc killed after committing the mark and deleting one file leaves.
  catalog.in_transaction([&] { catalog.mark_artifacts_purged(version, kNote); });
  fs::remove(store.path_of(*version.model_sha256));
  const mlc::VerifyReport before = mlc::verify_home(session);
  CHECK(before.problems.empty());

  mlc::GcOptions options;  // no --purge-retired, the default --min-age: the files are young
  const mlc::GcOutcome outcome = mlc::collect_garbage(session, options);
  REQUIRE(outcome.removed.size() == 1);
  CHECK(outcome.removed[0].path == store.path_of(*version.manifest_sha256));
  CHECK(outcome.removed[0].why == "retired");
  CHECK(outcome.purged_versions.empty());  // marked before
  CHECK_FALSE(fs::exists(store.path_of(*version.manifest_sha256)));
  CHECK(mlc::verify_home(session).problems.empty());
}

TEST_CASE("gc --purge-retired marks the version purged before it deletes anything") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  const mlc::ArtifactStore store(temp.home().artifacts_dir());
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto version = retired_artifact(temp, catalog, store);
  // A dead process's directory that gc cannot delete stops it after the store's files (deleted
  // first) are gone, as a kill would.
  const fs::path stuck = temp.home().tmp_dir() / "export-dead";
  fs::create_directories(stuck);
  mlc::test::write_file(stuck / "model.pt", "x");
  mlc::GcOptions options;
  options.purge_retired = true;
  options.min_age_seconds = 0;
  {
    const Undeletable guard(stuck);
    if (!guard.works()) {
      MESSAGE("skipped: cannot make a directory undeletable here (root without CAP_LINUX_IMMUTABLE?)");
      return;
    }
    CHECK_THROWS_AS(mlc::collect_garbage(session, options), mlc::Error);
  }
  CHECK(catalog.resolve(mlc::parse_reference("m:1")).artifacts_purged_at.has_value());
  CHECK_FALSE(fs::exists(store.path_of(*version.model_sha256)));
  CHECK(mlc::verify_home(session).problems.empty());
  mlc::collect_garbage(session, options);
  CHECK_FALSE(fs::exists(stuck));
  CHECK(mlc::verify_home(session).problems.empty());
}

TEST_CASE("gc never deletes a temporary entry a live process holds, whatever --min-age says") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  Catalog catalog(temp.home(), Catalog::Mode::create);
  mlc::GcOptions options;
  options.min_age_seconds = 0;
  fs::create_directories(temp.home().artifacts_dir() / "sha256");
  fs::path file, directory;
  {
    const mlc::WriterLock writing =
        mlc::WriterLock::new_file(temp.home().artifacts_dir() / "sha256", ".put.tmp-");
    const mlc::WriterLock working = mlc::WriterLock::new_directory(temp.home().tmp_dir(), "export-");
    file = writing.path();
    directory = working.path();
    CHECK(mlc::collect_garbage(session, options).removed.empty());
    CHECK(fs::exists(file));
    CHECK(fs::exists(directory));
  }
  // Released as by a process that died: now they are a dead process's leftovers.
  const mlc::GcOutcome outcome = mlc::collect_garbage(session, options);
  CHECK(outcome.removed.size() == 2);
  CHECK_FALSE(fs::exists(file));
  CHECK_FALSE(fs::exists(directory));
}

TEST_CASE("gc: --min-age is bounded") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  mlc::GcOptions options;
  for (const int64_t age : {int64_t{-1}, int64_t{315360001}, std::numeric_limits<int64_t>::max()}) {
    options.min_age_seconds = age;
    try {
      mlc::collect_garbage(session, options);
      FAIL("--min-age " << age << " was accepted");
    } catch (const mlc::Error& e) {
      CHECK(e.kind() == mlc::ErrorKind::usage);
      CHECK(std::string(e.what()) ==
            "--min-age " + std::to_string(age) + " is out of range: 0 to 315360000 seconds (10 years)");
    }
  }
  options.min_age_seconds = 315360000;
  CHECK_NOTHROW(mlc::collect_garbage(session, options));
}

TEST_CASE("gc deletes nothing through a link in the home") {
  mlc::test::TempHome temp;
  const mlc::Session session{temp.home(), "tester", "mlc gc", "host1"};
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const fs::path outside = temp.root() / "outside";
  fs::create_directories(outside / "export-dead");
  fs::remove_all(temp.home().tmp_dir());
  fs::create_directory_symlink(outside, temp.home().tmp_dir());
  mlc::GcOptions options;
  options.min_age_seconds = 0;
  REQUIRE_THROWS_WITH_AS(mlc::collect_garbage(session, options),
                         (temp.home().tmp_dir().string() + ": is a symbolic link; mlc never follows links inside its home").c_str(),
                         mlc::Error);
  CHECK(fs::exists(outside / "export-dead"));
}
