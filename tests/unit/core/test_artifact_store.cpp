#include <doctest/doctest.h>

#include <fstream>

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
