#include "training_run.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/home_paths.hpp"

namespace mlc::detail {
namespace fs = std::filesystem;

namespace {

constexpr const char* kRecordFile = "run.json";
constexpr const char* kLockFile = "lock";

// An exclusive flock on DIR/lock, or -1 if another process holds it. The kernel drops the lock
// when its holder dies, kill -9 included, so a stale lock cannot block a resume.
int try_lock(const fs::path& dir) {
  const fs::path path = dir / kLockFile;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_os_error("cannot open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) return -1;
    errno = error;
    throw_os_error("cannot lock", path);
  }
  return fd;
}

nlohmann::json read_record(const fs::path& dir) {
  const fs::path path = dir / kRecordFile;
  errno = 0;
  std::ifstream in(path);
  if (!in) {
    throw Error(ErrorKind::not_found,
                fmt::format("{}: cannot read the run: {}", path.string(),
                            errno != 0 ? os_error_text(errno) : "unreadable"));
  }
  try {
    nlohmann::json record = nlohmann::json::parse(in);
    (void)record.at("id").get<std::string>();
    (void)record.at("model").get<std::string>();
    (void)record.at("config").at("training");
    return record;
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: not a run record: {}", path.string(), error.what()));
  }
}

std::string compact_utc(const std::string& iso) {
  std::string compact;
  for (char c : iso) {
    if (c != '-' && c != ':' && c != '.') compact += c;
  }
  return compact;
}

}  // namespace

TrainingRun::TrainingRun(Home home, fs::path dir, int lock_fd)
    : home_(std::move(home)), dir_(std::move(dir)), lock_fd_(lock_fd) {
  record_ = read_record(dir_);
  id_ = record_.at("id").get<std::string>();
  model_ = record_.at("model").get<std::string>();
}

TrainingRun::TrainingRun(TrainingRun&& other) noexcept
    : home_(std::move(other.home_)),
      dir_(std::move(other.dir_)),
      id_(std::move(other.id_)),
      model_(std::move(other.model_)),
      record_(std::move(other.record_)),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

TrainingRun::~TrainingRun() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

TrainingRun TrainingRun::start(const Home& home, const std::string& model,
                               const nlohmann::json& config, const nlohmann::json& lineage) {
  const std::string started = utc_now();
  const std::string id =
      fmt::format("{}-{}-{}", model, compact_utc(started), unique_suffix().substr(0, 6));
  const fs::path dir = home.runs_dir() / id;
  create_inside_home(home, dir);
  const int fd = try_lock(dir);
  const nlohmann::json record = {{"id", id},
                                 {"model", model},
                                 {"started_at", started},
                                 {"config", config},
                                 {"lineage", lineage}};
  try {
    write_file_atomically(dir / kRecordFile, record.dump(2) + "\n");
    return TrainingRun(home, dir, fd);
  } catch (...) {
    ::close(fd);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    throw;
  }
}

TrainingRun TrainingRun::resume(const Home& home, const std::string& name_or_id) {
  const fs::path runs = home.runs_dir();
  std::optional<fs::path> chosen;
  if (!name_or_id.empty() && name_or_id.find('/') == std::string::npos &&
      fs::is_regular_file(runs / name_or_id / kRecordFile)) {
    chosen = runs / name_or_id;
  } else if (fs::is_directory(runs)) {
    // The model's most recent run: run ids sort by start time after the model name.
    std::string newest;
    for (const auto& entry : fs::directory_iterator(runs)) {
      if (!fs::is_regular_file(entry.path() / kRecordFile)) continue;
      nlohmann::json record;
      try {
        record = read_record(entry.path());
      } catch (const Error&) {
        // Another run's damaged record must not make every `--resume NAME` fail for good; that
        // run can still be named by its id, which reports the damage.
        continue;
      }
      const auto started = record.value("started_at", "");
      if (record.at("model") == name_or_id && started > newest) {
        newest = started;
        chosen = entry.path();
      }
    }
  }
  if (!chosen) {
    throw Error(ErrorKind::not_found,
                fmt::format("no interrupted run '{}' in {} (a run id, or a model name)", name_or_id,
                            runs.string()));
  }
  const int fd = try_lock(*chosen);
  if (fd < 0) {
    throw Error(ErrorKind::refused,
                fmt::format("run {} is still running in another mlc process",
                            chosen->filename().string()));
  }
  return TrainingRun(home, *chosen, fd);
}

void TrainingRun::remove() {
  try {
    check_inside_home(home_, dir_);
  } catch (const Error&) {
    return;  // a link put in its place leads outside the home: leave it rather than follow it
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

}  // namespace mlc::detail
