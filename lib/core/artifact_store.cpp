#include "mlc/artifact_store.hpp"

#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;

fs::path ArtifactStore::path_of(const std::string& sha256) const {
  return root_ / "sha256" / sha256.substr(0, 2) / sha256;
}

std::string ArtifactStore::put(const fs::path& file) const {
  const std::string sha256 = sha256_file(file);
  const fs::path target = path_of(sha256);
  if (fs::exists(target)) {
    // Fresh again: gc keeps young files, and the caller is about to reference this one.
    std::error_code ignored;
    fs::last_write_time(target, fs::file_time_type::clock::now(), ignored);
    return sha256;
  }
  fs::create_directories(target.parent_path());
  copy_file_atomically(file, target);
  return sha256;
}

void ArtifactStore::verify(const std::string& sha256) const {
  const fs::path file = path_of(sha256);
  if (!fs::exists(file)) {
    throw Error(ErrorKind::integrity, "artifact " + sha256 + " is missing from the store (" +
                                          file.string() + ")");
  }
  const std::string actual = sha256_file(file);
  if (actual != sha256) {
    throw Error(ErrorKind::integrity, "artifact " + file.string() + " is corrupt: its sha256 is " +
                                          actual);
  }
}

}  // namespace mlc
