#include "mlc/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/home_paths.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// gc would have to delete the entry between our creating and locking it this many times in a
// row; past it something else is wrong.
constexpr int kMaxAttempts = 100;

// Whether `path` still names the inode `fd` is open on (gc did not delete it before we locked it).
bool still_named(int fd, const fs::path& path) {
  struct stat opened {}, named {};
  return ::fstat(fd, &opened) == 0 && ::lstat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

enum class Entry { file, directory };

// Creates the entry; returns an fd on it, or -1 if the name was taken or the entry vanished
// before it could be opened (try another name).
int create(const fs::path& path, Entry entry) {
  if (entry == Entry::file) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) throw_os_error("cannot create", path);
    return fd;
  }
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) return -1;
    throw_os_error("cannot create the directory", path);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) throw_os_error("cannot open", path);
  return fd;
}

// Creates the entry under a fresh name and locks it, again under a new name if gc deleted it
// before it was locked. Returns its path and the fd holding the lock.
std::pair<fs::path, int> create_locked(const fs::path& parent, std::string_view prefix, Entry entry) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    fs::path path = parent / (std::string(prefix) + unique_suffix());
    const int fd = create(path, entry);
    if (fd < 0) continue;
    // Blocks only while gc holds the lock, i.e. while gc deletes the entry; still_named() then fails.
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      throw_os_error("cannot lock", path);
    }
    if (still_named(fd, path)) return {std::move(path), fd};
    ::close(fd);
  }
  throw Error(ErrorKind::internal, "cannot create a temporary entry in " + parent.string() +
                                       ": it was deleted before it could be locked, every time");
}

}  // namespace

WriterLock WriterLock::new_file(const fs::path& parent, std::string_view prefix) {
  auto [path, fd] = create_locked(parent, prefix, Entry::file);
  return WriterLock(std::move(path), fd);
}

WriterLock WriterLock::new_directory(const fs::path& parent, std::string_view prefix) {
  auto [path, fd] = create_locked(parent, prefix, Entry::directory);
  return WriterLock(std::move(path), fd);
}

WriterLock::WriterLock(WriterLock&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<WriterLock> lock_abandoned(const fs::path& path) {
  // O_NONBLOCK: a FIFO someone left there must not block gc.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) return WriterLock(path, -1);  // a symbolic link: no writer makes one
    throw_os_error("cannot open", path);
  }
  WriterLock lock(path, fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    throw_os_error("cannot lock", path);
  }
  return lock;
}

namespace {

WriterLock new_directory_in_tmp(const Home& home, std::string_view prefix) {
  create_inside_home(home, home.tmp_dir());
  return WriterLock::new_directory(home.tmp_dir(), prefix);
}

}  // namespace

LockedTempDir::LockedTempDir(const Home& home, std::string_view prefix)
    : lock_(new_directory_in_tmp(home, prefix)) {}

LockedTempDir::~LockedTempDir() {
  std::error_code ignored;
  fs::remove_all(path(), ignored);
}

}  // namespace mlc
