#include "mlc/deployer.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <unistd.h>

#include "mlc/fs.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// A sibling name no other process uses: pids alone collide across containers sharing MLC_HOME.
fs::path aside_name(const fs::path& live, std::string_view why) {
  return live.parent_path() /
         ("." + live.filename().string() + "." + std::string(why) + "-" + unique_suffix());
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

}  // namespace

fs::path Deployer::directory(const std::string& target, const std::string& model) const {
  return root_ / target / model;
}

Deployer::Swap Deployer::place(const std::string& target, const std::string& model,
                               const std::vector<DeploymentFile>& files) const {
  const fs::path live = directory(target, model);
  fs::create_directories(live.parent_path());
  const fs::path staged = aside_name(live, "new");
  fs::create_directory(staged);
  try {
    for (const auto& file : files) copy_file_atomically(file.source, staged / file.name);
    fsync_directory(staged);
  } catch (...) {
    remove_quietly(staged);
    throw;
  }

  const bool replacing = fs::exists(live);
  // Exchange in one step, so `live` is never missing; after it `staged` holds the old content.
  const int rc = replacing
                     ? ::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, live.c_str(), RENAME_EXCHANGE)
                     : ::rename(staged.c_str(), live.c_str());
  if (rc != 0) {
    remove_quietly(staged);
    throw_os_error("cannot move the deployment into", live);
  }
  Swap swap(live, replacing ? staged : fs::path());  // from here on, failure is undone
  fsync_directory(live.parent_path());
  return swap;
}

Deployer::Swap Deployer::take_down(const std::string& target, const std::string& model) const {
  const fs::path live = directory(target, model);
  if (!fs::exists(live)) return Swap({}, {});
  const fs::path aside = aside_name(live, "removed");
  if (::rename(live.c_str(), aside.c_str()) != 0) throw_os_error("cannot remove", live);
  Swap swap(live, aside);
  fsync_directory(live.parent_path());
  return swap;
}

Deployer::Swap::Swap(fs::path live, fs::path previous)
    : live_(std::move(live)), previous_(std::move(previous)) {}

Deployer::Swap::Swap(Swap&& other) noexcept
    : live_(std::move(other.live_)), previous_(std::move(other.previous_)), done_(other.done_) {
  other.done_ = true;
}

void Deployer::Swap::commit() {
  done_ = true;
  if (!previous_.empty()) remove_quietly(previous_);
}

Deployer::Swap::~Swap() {
  if (done_ || live_.empty()) return;
  // Roll back: put the previous content back in one step, or take the new one away.
  if (previous_.empty()) {
    remove_quietly(live_);
  } else if (!fs::exists(live_)) {
    ::rename(previous_.c_str(), live_.c_str());  // undo a take_down
  } else if (::renameat2(AT_FDCWD, previous_.c_str(), AT_FDCWD, live_.c_str(), RENAME_EXCHANGE) ==
             0) {
    remove_quietly(previous_);
  }
}

}  // namespace mlc
