// The content-addressed artifact store: every file is kept under its own sha256, so a file is
// written once however many versions share it, and any corruption shows as a name mismatch.
#pragma once

#include <filesystem>
#include <string>

namespace mlc {

class ArtifactStore {
 public:
  // `root` is HOME/artifacts: the directories put() creates below it are checked from the home
  // root up, and refused if one is a link (create_inside_home, mlc/home_paths.hpp).
  explicit ArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Copies `file` into the store and returns its sha256: opens `file` once, hashes exactly the
  // bytes it writes to a temporary file (locked while written: see writer_lock.hpp), then renames
  // that over the sha256 name, atomically, which also replaces a corrupt file of that name and
  // makes the stored file young again (gc keeps young unreferenced files). Throws
  // Error(not_found) if `file` cannot be opened, Error(invalid_input) if it cannot be read,
  // Error(catalog) naming the path and the OS's reason if the store cannot be written (a full
  // disk), Error(integrity) if a directory of the store is a link; no temporary file is left.
  std::string put(const std::filesystem::path& file) const;

  // For a commit that references `sha256`, called under the catalogue's write lock (gc deletes
  // from the store only under it, so the file then stays until the commit has referenced it):
  // puts `source` again if the stored file is missing (gc may delete an unreferenced file between
  // put() and the commit). Throws Error(integrity) if `source` no longer hashes to `sha256`, and
  // as put() does.
  void ensure_stored(const std::string& sha256, const std::filesystem::path& source) const;

  // Where the artifact with this sha256 lives (whether or not it exists).
  std::filesystem::path path_of(const std::string& sha256) const;

  // Rehashes the stored file. Throws Error(integrity) if it is missing or its content no longer
  // has this sha256.
  void verify(const std::string& sha256) const;

 private:
  std::filesystem::path root_;
};

}  // namespace mlc
