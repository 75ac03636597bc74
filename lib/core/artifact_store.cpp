#include "mlc/artifact_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/sha256.hpp"
#include "mlc/writer_lock.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// gc deletes files of this form (a dot, then ".tmp-") that no live process holds locked.
constexpr std::string_view kTemporaryPrefix = ".put.tmp-";

class SourceFile {
 public:
  explicit SourceFile(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw Error(ErrorKind::not_found, "cannot read " + path.string());
  }
  ~SourceFile() { ::close(fd_); }
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw_os_error("cannot write", path);
    data += written;
    size -= static_cast<size_t>(written);
  }
}

// Copies `from` to `to` and returns the sha256 of exactly the bytes written: a source replaced or
// changed while it is read cannot end up stored under another content's name.
std::string copy_hashing(const SourceFile& from, const fs::path& source, int to, const fs::path& target) {
  Sha256 digest;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    const ssize_t got = ::read(from.fd(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(ErrorKind::invalid_input, "cannot read " + source.string() + ": " + os_error_text(errno));
    if (got == 0) break;
    write_all(to, buffer.data(), static_cast<size_t>(got), target);
    digest.update(std::string_view(buffer.data(), static_cast<size_t>(got)));
  }
  if (::fsync(to) != 0) throw_os_error("cannot fsync", target);
  return digest.hex();
}

}  // namespace

fs::path ArtifactStore::path_of(const std::string& sha256) const {
  return root_ / "sha256" / sha256.substr(0, 2) / sha256;
}

std::string ArtifactStore::put(const fs::path& file) const {
  const SourceFile source(file);
  const Home home{root_.parent_path(), {}};
  const fs::path dir = root_ / "sha256";
  create_inside_home(home, dir);
  const WriterLock temporary = WriterLock::new_file(dir, kTemporaryPrefix);
  try {
    const std::string sha256 = copy_hashing(source, file, temporary.fd(), temporary.path());
    // Always renamed over the name, even if a file has it: the bytes just written are known to
    // have this sha256, an existing file is not (a corrupt one would be reused by every later
    // put of the same bytes), and the rename costs less than rehashing it.
    const fs::path target = path_of(sha256);
    create_inside_home(home, target.parent_path());
    if (::rename(temporary.path().c_str(), target.c_str()) != 0) throw_os_error("cannot rename into", target);
    fsync_directory(target.parent_path());
    return sha256;
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary.path(), ignored);
    throw;
  }
}

void ArtifactStore::ensure_stored(const std::string& sha256, const fs::path& source) const {
  if (fs::exists(path_of(sha256))) return;
  const std::string now = put(source);
  if (now != sha256) {
    throw Error(ErrorKind::integrity, source.string() + " changed before it was recorded: its sha256 was " +
                                          sha256 + ", it is now " + now);
  }
}

void ArtifactStore::verify(const std::string& sha256) const {
  const fs::path file = path_of(sha256);
  if (!fs::exists(file)) {
    throw Error(ErrorKind::integrity, "artifact " + sha256 + " is missing from the store (" +
                                          file.string() + ")");
  }
  const std::string actual = sha256_file(file);
  if (actual != sha256) {
    throw Error(ErrorKind::integrity, "artifact " + file.string() + " is corrupt: its sha256 is " +
                                          actual);
  }
}

}  // namespace mlc
