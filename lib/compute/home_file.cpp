#include "home_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc::compute {
namespace {

// Writes all of `bytes` to `fd`; false with errno set if the OS refused.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      if (written == 0) errno = EIO;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

std::string serialized(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

void write_home_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  const auto fail = [&](int error) {
    ::unlink(temporary.c_str());
    throw Error(ErrorKind::catalog,
                fmt::format("cannot write {}: {}", path.string(), os_error_text(error)));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno);
  // A full disk may show only at fsync or close (delayed allocation, NFS), not at write.
  const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
  const int error = errno;
  if (::close(fd) != 0 && written) fail(errno);
  if (!written) fail(error);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail(errno);
}

}  // namespace mlc::compute
