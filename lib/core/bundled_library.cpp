#include "bundled_library.hpp"

#include <dlfcn.h>

#include <filesystem>

#include "mlc/error.hpp"

namespace mlc {
namespace fs = std::filesystem;

LibraryEntry bundled_library_entry(const std::string& what, const std::string& file, const char* entry,
                                   const std::optional<std::string>& override_path, bool lazy_binding) {
  fs::path library;
  if (override_path) {
    library = *override_path;
  } else {
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (error) throw Error(ErrorKind::internal, "cannot find the mlc executable: " + error.message());
    library = exe.parent_path().parent_path() / "lib" / "mlc" / file;
  }
  // RTLD_LOCAL: the library's dependencies (libtorch, libpq) stay out of the global namespace of
  // the mlc process. dlopen() of a library already open returns the same handle.
  void* handle = ::dlopen(library.c_str(), (lazy_binding ? RTLD_LAZY : RTLD_NOW) | RTLD_LOCAL);
  if (handle == nullptr) {
    throw Error(ErrorKind::internal,
                "cannot load " + what + " " + library.string() + ": " +
                    ::dlerror());  // NOLINT(concurrency-mt-unsafe): one thread, at start-up
  }
  void* symbol = ::dlsym(handle, entry);
  if (symbol == nullptr) {
    throw Error(ErrorKind::internal, library.string() + " has no " + entry + " entry point");
  }
  return {symbol, library.string()};
}

}  // namespace mlc
