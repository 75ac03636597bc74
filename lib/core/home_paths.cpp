#include "mlc/home_paths.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mlc/error.hpp"
#include "mlc/fs.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

enum class Missing { accept, create };

// An open directory, closed when it goes out of scope.
class DirectoryFd {
 public:
  explicit DirectoryFd(int fd) : fd_(fd) {}
  DirectoryFd(const DirectoryFd&) = delete;
  DirectoryFd& operator=(const DirectoryFd&) = delete;
  ~DirectoryFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// The components of `path` below `root`, in order ("deployments", "prod", "m"); none for the root.
std::vector<std::string> components_below(const fs::path& root, const fs::path& path) {
  // Both normalised, a path outside `root` is either unrelated (empty) or starts with "..".
  const fs::path relative = path.lexically_normal().lexically_relative(root.lexically_normal());
  if (relative.empty() || *relative.begin() == "..") {
    throw Error(ErrorKind::internal, path.string() + " is not a path inside the home " + root.string());
  }
  std::vector<std::string> parts;
  for (const auto& part : relative) {
    if (!part.empty() && part != ".") parts.push_back(part.string());  // "." is the root itself
  }
  return parts;
}

int open_directory_below(int parent, const std::string& name) {
  return ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// Why `name` in `parent` could not be opened as a directory, as the error to throw.
[[noreturn]] void refuse(int parent, const std::string& name, const fs::path& path, int error) {
  struct stat status {};
  if (::fstatat(parent, name.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(status.st_mode)) {
      throw Error(ErrorKind::integrity,
                  path.string() + ": is a symbolic link; mlc never follows links inside its home");
    }
    if (!S_ISDIR(status.st_mode)) throw Error(ErrorKind::integrity, path.string() + ": is not a directory");
  }
  errno = error;
  throw_os_error("cannot open", path);
}

void walk(const Home& home, const fs::path& path, Missing missing) {
  const std::vector<std::string> parts = components_below(home.root, path);
  if (missing == Missing::create) {
    std::error_code error;
    fs::create_directories(home.root, error);
    if (error) {
      throw Error(ErrorKind::catalog, "cannot create " + home.root.string() + ": " + error.message());
    }
  }
  DirectoryFd dir(::open(home.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    if (errno == ENOENT && missing == Missing::accept) return;  // no home: nothing below it either
    throw_os_error("cannot open", home.root);
  }
  fs::path reached = home.root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& name = parts[i];
    reached /= name;
    int next = open_directory_below(dir.get(), name);
    if (next < 0 && errno == ENOENT && missing == Missing::create) {
      if (::mkdirat(dir.get(), name.c_str(), 0777) != 0 && errno != EEXIST) {
        throw_os_error("cannot create", reached);
      }
      next = open_directory_below(dir.get(), name);
    }
    if (next >= 0) {
      dir.reset(next);
      continue;
    }
    const int error = errno;
    if (error == ENOENT) return;  // nothing below exists, so nothing below can be a link
    const bool last = i + 1 == parts.size();
    if (last && missing == Missing::accept && error == ENOTDIR) {
      struct stat status {};
      if (::fstatat(dir.get(), name.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(status.st_mode)) {
        return;  // a file at the end of the path: what the caller asked about
      }
    }
    refuse(dir.get(), name, reached, error);
  }
}

}  // namespace

void check_inside_home(const Home& home, const fs::path& path) { walk(home, path, Missing::accept); }

void create_inside_home(const Home& home, const fs::path& dir) { walk(home, dir, Missing::create); }

}  // namespace mlc
