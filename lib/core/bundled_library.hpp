// The shared libraries mlc dlopen()s only when a command needs them (libmlc_compute.so for
// libtorch, libmlc_postgres.so for libpq): what they cost at start-up is paid by those commands
// alone.
#pragma once

#include <optional>
#include <string>

namespace mlc {

struct LibraryEntry {
  void* symbol = nullptr;
  std::string path;  // the file it came from, for messages
};

// dlopen()s lib/mlc/FILE beside the executable (bin/mlc -> lib/mlc/FILE, the same in the build
// tree and the install tree), or `override_path` if given, and returns its symbol `entry`.
// Throws Error(internal) naming `what` ("the compute library") and the file if either is missing.
// With lazy_binding, functions are bound at their first call rather than all at load: for libpq,
// whose 24 libraries hold ~10,000 relocations, that is ~2 ms of every command that uses it.
LibraryEntry bundled_library_entry(const std::string& what, const std::string& file, const char* entry,
                                   const std::optional<std::string>& override_path, bool lazy_binding = false);

}  // namespace mlc
