// Deployment directories: $MLC_HOME/deployments/TARGET/NAME/ holds the model file and its manifest
// of the version deployed there. Each change is atomic: readers see the old directory or the new
// one, never a half-written or missing one.
//
// Every path the Deployer creates, renames, deletes or lists is checked first
// (mlc/home_paths.hpp): a symbolic link at deployments/, TARGET or NAME is refused with
// Error(integrity) naming it, so nothing outside the home is written or deleted through one.
// An OS error (a read-only home, a full disk) is Error(catalog) naming the path and the reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlc/home.hpp"

namespace mlc {

struct DeploymentFile {
  std::filesystem::path source;  // e.g. a file in the artifact store
  std::string name;              // its name in the deployment directory, e.g. "model.pt"
  std::string sha256;            // what its content must hash to (checked by mismatches())
};

class Deployer {
 public:
  // `deployments_dir` is a Home's deployments_dir(): its parent is the home root, the one
  // directory above it that may be a link.
  explicit Deployer(std::filesystem::path deployments_dir)
      : root_(std::move(deployments_dir)), home_{root_.parent_path(), {}} {}

  std::filesystem::path directory(const std::string& target, const std::string& model) const;

  // Builds the new directory beside the final one (".NAME.new-XXXX"), then swaps it in with one
  // renameat2(RENAME_EXCHANGE); when there was no directory, an empty one is made first, so that
  // every swap is an exchange and leaves the sibling behind until commit(). The files, the new
  // directory and the parent are fsync'ed before the exchange; the sibling marks the change as
  // unfinished until commit(), so recover() can finish it after a crash at any point.
  // Returns a handle that can put the previous content back (if the catalogue transaction that
  // goes with the swap fails). Throws as described at the top, naming the path; nothing changes.
  class Swap;
  Swap place(const std::string& target, const std::string& model,
             const std::vector<DeploymentFile>& files) const;

  // Takes the directory away in one rename (aside); commit() deletes it, and destruction without
  // commit() puts it back. Nothing to undo if it was absent.
  Swap take_down(const std::string& target, const std::string& model) const;

  // What differs between the directory and `files` (exactly these files, with these sha256s):
  // one line per problem ("model.pt: sha256 is X, the catalogue says Y", "manifest.json: missing",
  // "model.pt: is a symbolic link", "notes.txt: not part of the deployment", "the directory is
  // missing"); empty when intact. Files are never read through a link.
  std::vector<std::string> mismatches(const std::string& target, const std::string& model,
                                      const std::vector<DeploymentFile>& files) const;

  // The ".NAME.new-<16 hex digits>" and ".NAME.removed-<16 hex digits>" siblings of
  // deployments/TARGET/NAME: exactly that shape, so that no other name (check_name refuses a
  // leading '.'; a hand-made ".m.new-1") is taken for one. Outside a catalogue transaction they
  // may belong to a running mlc; under its write lock (every place and take_down runs under it)
  // they can only be left by a process that died mid-change.
  std::vector<std::filesystem::path> leftovers(const std::string& target,
                                               const std::string& model) const;

  // Finishes a change that a killed process left half-done: call under the catalogue's write
  // lock. If leftovers() finds any, the directory is made to hold exactly `files` (the catalogue's
  // version; nullopt: nothing is deployed there, so it is removed) and the leftovers are deleted.
  // Returns whether there was anything to recover. Throws as described at the top.
  bool recover(const std::string& target, const std::string& model,
               const std::optional<std::vector<DeploymentFile>>& files) const;

  // Every (target, model) directory under the deployments root that has leftovers. A link among
  // the targets is refused (Error(integrity)), not followed.
  std::vector<std::pair<std::string, std::string>> interrupted() const;

  // Every (target, model) directory under the deployments root (hidden names excluded). A link
  // among the targets or their entries is refused (Error(integrity)), not followed.
  std::vector<std::pair<std::string, std::string>> directories() const;

 private:
  std::vector<std::filesystem::path> target_directories() const;

  std::filesystem::path root_;
  Home home_;
};

// The outcome of Deployer::place and take_down: commit() deletes the previous content, and
// destruction without commit() restores it. Declare it after the catalogue Transaction that goes
// with it, so that it is undone before the transaction rolls back, while the lock is held.
class Deployer::Swap {
 public:
  Swap(std::filesystem::path live, std::filesystem::path previous);
  Swap(Swap&& other) noexcept;
  Swap& operator=(Swap&&) = delete;
  Swap(const Swap&) = delete;
  ~Swap();

  // Deletes the previous content (the leftover): call after the catalogue committed.
  void commit();

 private:
  std::filesystem::path live_;
  std::filesystem::path previous_;  // the old content, renamed aside; empty if there was none
                                    // (then `live_` is what there is to undo)
  bool created_ = false;            // `live_` did not exist before: undo removes it
  bool done_ = false;

  friend class Deployer;
};

}  // namespace mlc
