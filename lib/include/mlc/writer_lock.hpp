// Temporary files and directories that a live process is still writing, told apart from a dead
// process's leftovers without trusting their age: the writer holds an flock on the entry for as
// long as it writes it (the kernel drops the lock when the process dies, kill -9 included), and
// `mlc gc` deletes a temporary entry only while holding that lock itself (lock_abandoned()).
//
// Why this is race-free: gc unlinks an entry only while it holds the entry's lock, so a writer that
// holds the lock cannot lose its entry. The one gap, between a writer creating the entry and
// locking it, is closed on the writer's side: once locked, it checks that the path still names
// the inode it locked, and starts again under a new name if gc deleted it in that gap.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "mlc/home.hpp"

namespace mlc {

// An open file descriptor holding an flock on a file or directory; closing it releases the lock
// (the entry itself stays). Move-only.
class WriterLock {
 public:
  // Creates a new file (O_EXCL, open for writing through fd()) named
  // `parent/prefix + 16 random hex digits` and locks it. Throws Error(internal) naming the path.
  static WriterLock new_file(const std::filesystem::path& parent, std::string_view prefix);
  // The same for a new, empty directory (fd() is open read-only on it).
  static WriterLock new_directory(const std::filesystem::path& parent, std::string_view prefix);

  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  friend std::optional<WriterLock> lock_abandoned(const std::filesystem::path& path);
  WriterLock(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;
};

// gc's side: takes the lock of a temporary entry if no live process holds it, so that no writer
// can take it while gc deletes the entry. Returns nullopt if a live process holds it, or if the
// entry is already gone. A symbolic link is never locked by a writer: it comes back locked on
// nothing (fd() == -1), as abandoned.
std::optional<WriterLock> lock_abandoned(const std::filesystem::path& path);

// A fresh directory in HOME/tmp (see WriterLock::new_directory) that this process writes in:
// locked for its lifetime, removed with its contents when the object goes out of scope. HOME/tmp
// is created if missing and refused if it is a link (create_inside_home, mlc/home_paths.hpp).
class LockedTempDir {
 public:
  LockedTempDir(const Home& home, std::string_view prefix);
  ~LockedTempDir();
  LockedTempDir(const LockedTempDir&) = delete;
  LockedTempDir& operator=(const LockedTempDir&) = delete;

  const std::filesystem::path& path() const { return lock_.path(); }

 private:
  WriterLock lock_;
};

}  // namespace mlc
