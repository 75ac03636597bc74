// The content-addressed artifact store: every file is kept under its own sha256, so a file is
// written once however many versions share it, and any corruption shows as a name mismatch.
#pragma once

#include <filesystem>
#include <string>

namespace mlc {

class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Copies `file` into the store (atomically; if it is already there, only its modification time
  // is renewed, so that gc's grace period protects it until the caller references it) and
  // returns its sha256. Throws Error(not_found) if `file` cannot be read.
  std::string put(const std::filesystem::path& file) const;

  // Where the artifact with this sha256 lives (whether or not it exists).
  std::filesystem::path path_of(const std::string& sha256) const;

  // Rehashes the stored file. Throws Error(integrity) if it is missing or its content no longer
  // has this sha256.
  void verify(const std::string& sha256) const;

 private:
  std::filesystem::path root_;
};

}  // namespace mlc
