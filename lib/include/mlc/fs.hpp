// Filesystem writes that never leave a half-written file behind: write to a temporary name in the
// same directory, fsync it, rename it over the final name, fsync the directory.
//
// These write into MLC_HOME, so an OS error is the home that cannot be written (a read-only home,
// a full disk): Error(catalog), exit 8, naming the path and the OS's reason ("No space left on
// device"). A caller writing elsewhere (export --out) translates it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mlc {

// Writes `content` to `path` atomically. Throws Error(catalog) "cannot write <path>: <reason>" on
// failure; the temporary file is removed.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Copies `from` to `to` atomically (same guarantees as write_file_atomically).
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to);

// Copies `from` to `to` without a temporary name and without fsync: only for a `to` inside a
// directory nobody reads yet, which the caller makes durable with fsync_all() and then renames
// into place. Throws Error(catalog) naming both paths and the reason.
void copy_file_unsynced(const std::filesystem::path& from, const std::filesystem::path& to);

// fsyncs every path (files and directories) at once, one thread each, so that the filesystem can
// flush them in one journal commit instead of one after the other (each ~3.5 ms here). Throws
// Error(catalog) naming the first path that failed, after all have finished.
void fsync_all(const std::vector<std::filesystem::path>& paths);

// Throws Error(catalog): "<what> <path>: <strerror(errno)>".
[[noreturn]] void throw_os_error(const std::string& what, const std::filesystem::path& path);

// 16 random hex digits, for temporary names no other process (in any container) will pick.
std::string unique_suffix();

// Flushes a directory's entries (after a rename into it) to disk.
void fsync_directory(const std::filesystem::path& dir);

}  // namespace mlc
