// Deployment directories: $MLC_HOME/deployments/TARGET/NAME/ holds the model file and its manifest
// of the version deployed there. Each change is atomic: readers see the old directory or the new
// one, never a half-written or missing one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mlc {

struct DeploymentFile {
  std::filesystem::path source;  // e.g. a file in the artifact store
  std::string name;              // its name in the deployment directory, e.g. "model.pt"
};

class Deployer {
 public:
  explicit Deployer(std::filesystem::path deployments_dir) : root_(std::move(deployments_dir)) {}

  std::filesystem::path directory(const std::string& target, const std::string& model) const;

  // Builds the new directory beside the final one, then swaps it in with one
  // renameat2(RENAME_EXCHANGE) (or a plain rename when there was none) and removes the old one.
  // Returns a handle that can put the previous content back (if the catalogue transaction that
  // goes with the swap fails). Throws Error(internal) naming the path on failure; nothing changes.
  class Swap;
  Swap place(const std::string& target, const std::string& model,
             const std::vector<DeploymentFile>& files) const;

  // Takes the directory away in one rename (aside); commit() deletes it, and destruction without
  // commit() puts it back. Nothing to undo if it was absent.
  Swap take_down(const std::string& target, const std::string& model) const;

 private:
  std::filesystem::path root_;
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

  void commit();

 private:
  std::filesystem::path live_;
  std::filesystem::path previous_;  // the old content, renamed aside; empty if there was none
                                    // (then `live_` is what there is to undo)
  bool done_ = false;
};

}  // namespace mlc
