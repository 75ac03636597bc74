#include <doctest/doctest.h>

#include <fstream>
#include <vector>

#include "mlc/artifact_store.hpp"
#include "mlc/error.hpp"
#include "mlc/sha256.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;

using mlc::test::read_file;
using mlc::test::write_file;

TEST_CASE("sha256: known digests") {
  CHECK(mlc::sha256_bytes("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(mlc::sha256_bytes("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE_THROWS_WITH_AS(mlc::sha256_file("/nonexistent/x"), "cannot open /nonexistent/x", mlc::Error);
}

TEST_CASE("ArtifactStore: files are kept under their own sha256 and verified") {
  mlc::test::TempHome temp;
  const mlc::ArtifactStore store(temp.root() / "artifacts");
  write_file(temp.root() / "model.pt", "weights");
  const std::string sha = store.put(temp.root() / "model.pt");
  CHECK(sha == mlc::sha256_bytes("weights"));
  CHECK(store.path_of(sha) == temp.root() / "artifacts" / "sha256" / sha.substr(0, 2) / sha);
  CHECK(fs::exists(store.path_of(sha)));
  CHECK(store.put(temp.root() / "model.pt") == sha);  // idempotent
  CHECK_NOTHROW(store.verify(sha));

  write_file(store.path_of(sha), "tampered");
  REQUIRE_THROWS_WITH_AS(store.verify(sha),
                         ("artifact " + store.path_of(sha).string() + " is corrupt: its sha256 is " +
                          mlc::sha256_bytes("tampered")).c_str(),
                         mlc::Error);
  fs::remove(store.path_of(sha));
  try {
    store.verify(sha);
    FAIL("a missing artifact verified");
  } catch (const mlc::Error& e) {
    CHECK(e.kind() == mlc::ErrorKind::integrity);
  }
}

TEST_CASE("ArtifactStore::put: a corrupt stored file is rewritten, not reused") {
  mlc::test::TempHome temp;
  const mlc::ArtifactStore store(temp.root() / "artifacts");
  write_file(temp.root() / "model.pt", "weights");
  const std::string sha = store.put(temp.root() / "model.pt");
  write_file(store.path_of(sha), "tampered");

  CHECK(store.put(temp.root() / "model.pt") == sha);
  CHECK(read_file(store.path_of(sha)) == "weights");
  CHECK_NOTHROW(store.verify(sha));
}

TEST_CASE("ArtifactStore::put: every stored name is the sha256 of the stored bytes, nothing else is left") {
  mlc::test::TempHome temp;
  const mlc::ArtifactStore store(temp.root() / "artifacts");
  const std::vector<std::string> contents = {"", "a", std::string(200000, 'x'), "weights"};
  for (size_t i = 0; i < contents.size(); ++i) {
    write_file(temp.root() / "file", contents[i]);
    CHECK(store.put(temp.root() / "file") == mlc::sha256_bytes(contents[i]));
  }
  int stored = 0;
  for (const auto& entry : fs::recursive_directory_iterator(temp.root() / "artifacts")) {
    if (!entry.is_regular_file()) continue;
    ++stored;
    CHECK(entry.path().filename().string() == mlc::sha256_file(entry.path()));
  }
  CHECK(stored == 4);  // no temporary file left behind
  REQUIRE_THROWS_WITH_AS(store.put(temp.root() / "absent"), ("cannot read " + (temp.root() / "absent").string()).c_str(),
                         mlc::Error);
}

TEST_CASE("ArtifactStore::ensure_stored: puts the source again if the stored file is gone") {
  mlc::test::TempHome temp;
  const mlc::ArtifactStore store(temp.root() / "artifacts");
  const fs::path source = temp.root() / "model.pt";
  write_file(source, "weights");
  const std::string sha = store.put(source);

  CHECK_NOTHROW(store.ensure_stored(sha, source));
  fs::remove(store.path_of(sha));  // what gc does to a file no committed version references yet
  store.ensure_stored(sha, source);
  CHECK(read_file(store.path_of(sha)) == "weights");

  SUBCASE("a source that changed since it was put is refused") {
    fs::remove(store.path_of(sha));
    write_file(source, "other weights");
    try {
      store.ensure_stored(sha, source);
      FAIL("a changed source was stored under the old sha256");
    } catch (const mlc::Error& e) {
      CHECK(e.kind() == mlc::ErrorKind::integrity);
      CHECK(std::string(e.what()) == source.string() + " changed before it was recorded: its sha256 was " + sha +
                                         ", it is now " + mlc::sha256_bytes("other weights"));
    }
  }
}
