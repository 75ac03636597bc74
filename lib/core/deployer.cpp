#include "mlc/deployer.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string_view>

#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kNewMark = ".new-";
constexpr std::string_view kRemovedMark = ".removed-";
constexpr size_t kSuffixLength = 16;  // unique_suffix()

// A sibling name no other process uses: pids alone collide across containers sharing MLC_HOME.
fs::path aside_name(const fs::path& live, std::string_view why) {
  return live.parent_path() /
         ("." + live.filename().string() + "." + std::string(why) + "-" + unique_suffix());
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ".NAME.new-<16 hex>" or ".NAME.removed-<16 hex>" -> NAME; "" for any other name. Only the exact
// shape aside_name() makes, so that a directory a user made by hand is never taken for one.
std::string leftover_owner(std::string_view entry) {
  if (entry.size() < 2 + kSuffixLength || entry[0] != '.') return "";
  if (!is_lower_hex(entry.substr(entry.size() - kSuffixLength))) return "";
  const std::string_view head = entry.substr(1, entry.size() - 1 - kSuffixLength);  // "NAME.new-"
  for (std::string_view mark : {kNewMark, kRemovedMark}) {
    if (head.size() > mark.size() && head.substr(head.size() - mark.size()) == mark &&
        head[0] != '.') {
      return std::string(head.substr(0, head.size() - mark.size()));
    }
  }
  return "";
}

// The entries of `dir` (none if it does not exist). Throws Error(catalog) if it cannot be read.
std::vector<fs::directory_entry> entries_of(const fs::path& dir) {
  std::vector<fs::directory_entry> found;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    found.push_back(*it);
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    throw Error(ErrorKind::catalog, "cannot read " + dir.string() + ": " + error.message());
  }
  return found;
}

}  // namespace

fs::path Deployer::directory(const std::string& target, const std::string& model) const {
  return root_ / target / model;
}

Deployer::Swap Deployer::place(const std::string& target, const std::string& model,
                               const std::vector<DeploymentFile>& files) const {
  const fs::path live = directory(target, model);
  create_inside_home(home_, live.parent_path());
  check_inside_home(home_, live);
  const fs::path staged = aside_name(live, "new");
  if (::mkdir(staged.c_str(), 0777) != 0) throw_os_error("cannot create", staged);
  try {
    // `staged` is invisible until the exchange, so its files need no temporary names of their
    // own. They, `staged` and the parent (so that `staged`, the marker of an unfinished change,
    // is durable before the catalogue commits) are fsync'ed together: one journal commit rather
    // than four, ~3.5 ms each here. The exchange itself needs no fsync before the commit: if it
    // is lost, the marker is there and recover() redoes it from the store.
    std::vector<fs::path> written;
    for (const auto& file : files) {
      copy_file_unsynced(file.source, staged / file.name);
      written.push_back(staged / file.name);
    }
    written.push_back(staged);
    written.push_back(live.parent_path());
    fsync_all(written);
  } catch (...) {
    remove_quietly(staged);
    throw;
  }

  // An empty directory stands in for a missing one, so that the swap below is always an exchange
  // and `staged` (from then on: the old content) marks the change as unfinished until commit().
  const bool created = ::mkdir(live.c_str(), 0777) == 0;
  if (!created && errno != EEXIST) {
    const int error = errno;
    remove_quietly(staged);
    errno = error;
    throw_os_error("cannot create", live);
  }
  // Exchange in one step, so `live` is never missing; after it `staged` holds the old content.
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, live.c_str(), RENAME_EXCHANGE) != 0) {
    const int error = errno;
    remove_quietly(staged);
    if (created) remove_quietly(live);
    errno = error;
    throw_os_error("cannot move the deployment into", live);
  }
  Swap swap(live, staged);  // from here on, failure is undone
  swap.created_ = created;
  return swap;
}

Deployer::Swap Deployer::take_down(const std::string& target, const std::string& model) const {
  const fs::path live = directory(target, model);
  check_inside_home(home_, live);
  const fs::path aside = aside_name(live, "removed");
  if (::rename(live.c_str(), aside.c_str()) != 0) {
    if (errno == ENOENT) return Swap({}, {});  // nothing deployed there: nothing to undo
    throw_os_error("cannot remove", live);
  }
  Swap swap(live, aside);
  fsync_directory(live.parent_path());
  return swap;
}

std::vector<std::string> Deployer::mismatches(const std::string& target, const std::string& model,
                                              const std::vector<DeploymentFile>& files) const {
  const fs::path live = directory(target, model);
  check_inside_home(home_, live);
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(live, error))) return {"the directory is missing"};
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const auto& file : files) {
    expected.insert(file.name);
    const fs::path path = live / file.name;
    const fs::file_status status = fs::symlink_status(path, error);
    if (fs::is_symlink(status)) {
      problems.push_back(file.name + ": is a symbolic link");
      continue;
    }
    if (!fs::is_regular_file(status)) {
      problems.push_back(file.name + ": missing");
      continue;
    }
    const std::string actual = sha256_file(path);
    if (actual != file.sha256) {
      problems.push_back(file.name + ": sha256 is " + actual + ", the catalogue says " + file.sha256);
    }
  }
  std::vector<std::string> extra;
  for (const auto& entry : entries_of(live)) {
    const std::string name = entry.path().filename().string();
    if (expected.count(name) == 0) extra.push_back(name);
  }
  std::sort(extra.begin(), extra.end());
  for (const auto& name : extra) problems.push_back(name + ": not part of the deployment");
  return problems;
}

std::vector<fs::path> Deployer::leftovers(const std::string& target, const std::string& model) const {
  check_inside_home(home_, root_ / target);
  std::vector<fs::path> found;
  for (const auto& entry : entries_of(root_ / target)) {
    if (leftover_owner(entry.path().filename().string()) == model) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

bool Deployer::recover(const std::string& target, const std::string& model,
                       const std::optional<std::vector<DeploymentFile>>& files) const {
  const auto found = leftovers(target, model);
  if (found.empty()) return false;
  if (!files) {
    take_down(target, model).commit();
  } else if (!mismatches(target, model, *files).empty()) {
    place(target, model, *files).commit();
  }
  // A leftover that is a link is removed as a link: remove_all never follows one.
  for (const auto& path : found) remove_quietly(path);
  fsync_directory(root_ / target);
  return true;
}

// Every target directory under `root`, each checked: a link is refused, a stray file skipped.
std::vector<fs::path> Deployer::target_directories() const {
  check_inside_home(home_, root_);
  std::vector<fs::path> found;
  for (const auto& entry : entries_of(root_)) {
    check_inside_home(home_, entry.path());
    std::error_code error;
    if (entry.is_directory(error)) found.push_back(entry.path());
  }
  return found;
}

std::vector<std::pair<std::string, std::string>> Deployer::interrupted() const {
  std::set<std::pair<std::string, std::string>> found;
  for (const auto& target : target_directories()) {
    for (const auto& entry : entries_of(target)) {
      const std::string owner = leftover_owner(entry.path().filename().string());
      if (!owner.empty()) found.emplace(target.filename().string(), owner);
    }
  }
  return {found.begin(), found.end()};
}

std::vector<std::pair<std::string, std::string>> Deployer::directories() const {
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& target : target_directories()) {
    if (target.filename().string()[0] == '.') continue;
    for (const auto& entry : entries_of(target)) {
      const std::string name = entry.path().filename().string();
      if (name[0] == '.') continue;
      check_inside_home(home_, entry.path());
      found.emplace_back(target.filename().string(), name);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

Deployer::Swap::Swap(fs::path live, fs::path previous)
    : live_(std::move(live)), previous_(std::move(previous)) {}

Deployer::Swap::Swap(Swap&& other) noexcept
    : live_(std::move(other.live_)),
      previous_(std::move(other.previous_)),
      created_(other.created_),
      done_(other.done_) {
  other.done_ = true;
}

void Deployer::Swap::commit() {
  // No fsync before this removal: it and the exchange are renames in one directory, which a
  // journaling filesystem makes durable in order, so the leftover cannot vanish before the
  // exchange it marks.
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
    if (created_) remove_quietly(live_);  // the empty stand-in: there was nothing before
  }
}

}  // namespace mlc
