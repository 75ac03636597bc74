#include "serving/model_set.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/json_input.hpp"
#include "mlc/sha256.hpp"

namespace mlc::compute::serving {
namespace fs = std::filesystem;
namespace {

// A file descriptor closed when it goes out of scope.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error os_error(const fs::path& path, const char* what) {
  return Error(ErrorKind::not_found, fmt::format("cannot {} {}: {}", what, path.string(), os_error_text(errno)));
}

// The whole file `name` inside the directory `dir` (no link followed).
std::string read_at(const Descriptor& dir, const char* name, const fs::path& shown) {
  const Descriptor file(::openat(dir.get(), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (file.get() < 0) throw os_error(shown / name, "open");
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw os_error(shown / name, "read");
    if (got == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(got));
  }
}

std::string short_sha(const std::string& sha256) { return sha256.substr(0, 12); }

}  // namespace

void log_line(const std::string& line) {
  // One write per line, so that lines from several threads never interleave.
  const std::string text = "mlc serve: " + line + "\n";
  std::cerr.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::cerr.flush();
}

ModelSet::ModelSet(const ServeRequest& request, Metrics& metrics) : request_(request), metrics_(metrics) {}

ModelSet::Serving ModelSet::find(const std::string& name) const {
  const std::shared_lock lock(mutex_);
  const auto entry = serving_.find(name);
  if (entry == serving_.end()) return {};
  return {entry->second.model, batchers_.at(name).get()};
}

bool ModelSet::listed(const std::string& name) const {
  const std::shared_lock lock(mutex_);
  return listed_.count(name) > 0;
}

bool ModelSet::ready() const {
  const std::shared_lock lock(mutex_);
  return ready_;
}

std::shared_ptr<const InferenceModel> ModelSet::load(const ServedVersion& version) const {
  const fs::path dir = request_.target_dir / version.name;
  if (request_.check_no_links) request_.check_no_links(dir);
  // Both files come from the directory as it was when opened: a deploy that swaps it meanwhile
  // (renameat2 RENAME_EXCHANGE) cannot give a model.pt of one version and a manifest of another.
  const Descriptor directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (directory.get() < 0) throw os_error(dir, "open");
  const std::string script = read_at(directory, "model.pt", dir);
  const std::string manifest_text = read_at(directory, "manifest.json", dir);
  const std::string sha256 = sha256_bytes(script);
  if (sha256 != version.model_sha256) {
    throw Error(ErrorKind::integrity, fmt::format("{}: sha256 {} but the catalogue says {}:{} has {}",
                                                  (dir / "model.pt").string(), sha256, version.name,
                                                  version.version, version.model_sha256));
  }
  const std::set<std::string> missing(version.missing_values.begin(), version.missing_values.end());
  auto model = std::make_shared<const InferenceModel>(
      script, parse_json(manifest_text, (dir / "manifest.json").string()), (dir / "model.pt").string(),
      missing.empty() ? std::set<std::string>{"", "NA", "NaN"} : missing);
  if (model->name() != version.name || model->version() != std::to_string(version.version)) {
    throw Error(ErrorKind::integrity, fmt::format("{}: describes {}:{}, the catalogue says {}:{}",
                                                  (dir / "manifest.json").string(), model->name(),
                                                  model->version(), version.name, version.version));
  }
  return model;
}

namespace {
std::string version_key(const ServedVersion& version) {
  return std::to_string(version.version) + ":" + version.model_sha256;
}
}  // namespace

bool ModelSet::waiting_to_retry(const ServedVersion& version) const {
  const auto failure = failures_.find(version.name);
  return failure != failures_.end() && failure->second.version_key == version_key(version) &&
         std::chrono::steady_clock::now() < failure->second.next_attempt;
}

void ModelSet::report_failure(const ServedVersion& version, const std::string& message) {
  Failure& failure = failures_[version.name];
  const std::string key = version_key(version);
  failure.repeats = failure.version_key == key && failure.message == message ? failure.repeats + 1 : 1;
  failure.version_key = key;
  failure.message = message;
  const double delay = std::min(10.0, request_.poll_seconds * static_cast<double>(1 << std::min(failure.repeats, 10)));
  failure.next_attempt = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(delay));
  const bool maybe_transient = message.find("sha256") != std::string::npos || message.find("No such file") != std::string::npos;
  if (failure.repeats == (maybe_transient ? 2 : 1)) {
    log_line(fmt::format("error: {}:{} not loaded, {}: {}", version.name, version.version,
                         serving_.count(version.name) > 0 ? "the previous version keeps serving" : "not serving",
                         message));
    metrics_.model_loaded(version.name, false, false);
  }
}

void ModelSet::refresh() {
  std::vector<ServedVersion> target;
  try {
    target = request_.read_target();
    last_target_error_.clear();
  } catch (const std::exception& error) {
    if (last_target_error_ != error.what()) log_line(fmt::format("error: cannot read the target: {}", error.what()));
    last_target_error_ = error.what();
    return;
  }
  std::set<std::string> names;
  for (const ServedVersion& version : target) {
    names.insert(version.name);
    bool current = false;
    {
      const std::shared_lock lock(mutex_);
      const auto entry = serving_.find(version.name);
      current = entry != serving_.end() && entry->second.version == version.version &&
                entry->second.sha256 == version.model_sha256;
    }
    if (current) {
      failures_.erase(version.name);  // e.g. a failed deploy rolled back: a new failure is news
      continue;
    }
    {
      const std::unique_lock lock(mutex_);
      listed_.try_emplace(version.name, "");
    }
    if (waiting_to_retry(version)) continue;
    Batcher* batcher = nullptr;
    {
      const std::unique_lock lock(mutex_);
      auto& owned = batchers_[version.name];
      if (!owned) {
        owned = std::make_unique<Batcher>(version.name, request_.max_batch_size,
                                          std::chrono::microseconds(request_.max_queue_delay_us), metrics_);
      }
      batcher = owned.get();
    }
    std::shared_ptr<const InferenceModel> model;
    try {
      model = load(version);
      batcher->warm_up(model);  // on the thread that will run its requests
    } catch (const std::exception& error) {
      {
        const std::unique_lock lock(mutex_);
        listed_[version.name] = error.what();
      }
      report_failure(version, error.what());
      continue;
    }
    failures_.erase(version.name);
    std::optional<int64_t> replaced;
    {
      const std::unique_lock lock(mutex_);
      Entry& entry = serving_[version.name];
      if (entry.model) replaced = entry.version;
      entry = {model, version.version, version.model_sha256};
      listed_[version.name] = "";
    }
    metrics_.model_loaded(version.name, true, replaced.has_value());
    log_line(replaced ? fmt::format("swapped {} {} -> {} (sha256 {})", version.name, *replaced, version.version,
                                    short_sha(version.model_sha256))
                      : fmt::format("loaded {}:{} (sha256 {})", version.name, version.version,
                                    short_sha(version.model_sha256)));
  }
  std::vector<std::string> removed;
  {
    const std::unique_lock lock(mutex_);
    for (auto entry = serving_.begin(); entry != serving_.end();) {
      if (names.count(entry->first) == 0) {
        removed.push_back(fmt::format("removed {} (was {})", entry->first, entry->second.version));
        entry = serving_.erase(entry);
      } else {
        ++entry;
      }
    }
    for (auto entry = listed_.begin(); entry != listed_.end();) {
      entry = names.count(entry->first) == 0 ? listed_.erase(entry) : std::next(entry);
    }
    ready_ = serving_.size() == names.size();
  }
  for (auto failure = failures_.begin(); failure != failures_.end();) {
    failure = names.count(failure->first) == 0 ? failures_.erase(failure) : std::next(failure);
  }
  for (const std::string& line : removed) log_line(line);  // not under the lock: stderr may block
}

}  // namespace mlc::compute::serving
