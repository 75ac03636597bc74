#include "mlc/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <future>
#include <random>
#include <string>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

void fsync_path(const fs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_os_error("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_os_error("cannot fsync", path);
}

fs::path temporary_sibling(const fs::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" + unique_suffix());
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

// fsyncs `tmp` and renames it to `path`; removes `tmp` if either fails.
void commit_temporary(const fs::path& tmp, const fs::path& path) {
  try {
    fsync_path(tmp, O_RDONLY);
  } catch (...) {
    remove_quietly(tmp);
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    remove_quietly(tmp);
    errno = error;
    throw_os_error("cannot rename into", path);
  }
  fsync_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

}  // namespace

void throw_os_error(const std::string& what, const fs::path& path) {
  throw Error(ErrorKind::catalog, what + " " + path.string() + ": " + os_error_text(errno));
}

std::string unique_suffix() {
  static std::mt19937_64 generator{std::random_device{}() ^
                                   (static_cast<uint64_t>(::getpid()) << 32)};
  return fmt::format("{:016x}", generator());
}

void fsync_directory(const fs::path& dir) { fsync_path(dir, O_RDONLY | O_DIRECTORY); }

void write_file_atomically(const fs::path& path, std::string_view content) {
  const fs::path tmp = temporary_sibling(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw_os_error("cannot write", path);
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const int error = errno;
      ::close(fd);
      remove_quietly(tmp);
      errno = error;
      throw_os_error("cannot write", path);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  // A full disk may only show at close (NFS) or fsync; commit_temporary fsyncs.
  if (::close(fd) != 0) {
    const int error = errno;
    remove_quietly(tmp);
    errno = error;
    throw_os_error("cannot write", path);
  }
  commit_temporary(tmp, path);
}

void copy_file_atomically(const fs::path& from, const fs::path& to) {
  const fs::path tmp = temporary_sibling(to);
  std::error_code error;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, error);
  if (error) {
    remove_quietly(tmp);
    throw Error(ErrorKind::catalog,
                "cannot copy " + from.string() + " to " + to.string() + ": " + error.message());
  }
  commit_temporary(tmp, to);
}

void copy_file_unsynced(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) {
    throw Error(ErrorKind::catalog,
                "cannot copy " + from.string() + " to " + to.string() + ": " + error.message());
  }
}

void fsync_all(const std::vector<fs::path>& paths) {
  std::vector<std::future<void>> pending;
  pending.reserve(paths.size());
  for (const auto& path : paths) {
    pending.push_back(std::async(std::launch::async, [&path] {
      fsync_path(path, fs::is_directory(path) ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    }));
  }
  std::exception_ptr first;
  for (auto& done : pending) {
    try {
      done.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace mlc
