// dlopen()s the libtorch half only when a compute subcommand needs it (see compute.hpp for why).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "mlc/compute.hpp"
#include "mlc/environment.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

fs::path default_library_path() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) throw Error(ErrorKind::internal, "cannot find the mlc executable: " + error.message());
  // bin/mlc -> lib/mlc/libmlc_compute.so, the same in the build tree and the install tree.
  return exe.parent_path().parent_path() / "lib" / "mlc" / "libmlc_compute.so";
}

// OpenBLAS 0.3.21 (Debian 12) picks its kernels by CPU model and falls back to its slowest, SSE3
// "Prescott" ones for a model it does not know, such as the Xeons of our machines (model 207):
// a 784x256 matmul then runs 2.5x slower than with the AVX-512 kernels the CPU has. It reads
// OPENBLAS_CORETYPE when it is loaded, which is when libtorch is, so the choice is made here by
// the CPU's features; a value the user set is left alone. This is the one place mlc sets a variable
// (environment.hpp): before libtorch and its threads are loaded, on the only thread there is.
// NOLINTBEGIN(concurrency-mt-unsafe)
void choose_blas_kernels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    ::setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    ::setenv("OPENBLAS_CORETYPE", "Haswell", 0);
  }
}
// NOLINTEND(concurrency-mt-unsafe)

ComputeBackend& open_backend() {
  choose_blas_kernels();
  const auto env = environment_variable("MLC_COMPUTE_LIB");
  const fs::path library = env ? fs::path(*env) : default_library_path();
  // RTLD_LOCAL: libtorch's symbols stay out of the global namespace of the mlc process.
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw Error(ErrorKind::internal,
                "cannot load the compute library " + library.string() + ": " +
                    ::dlerror());  // NOLINT(concurrency-mt-unsafe): one thread, at start-up
  }
  using Entry = ComputeBackend* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, "mlc_compute_backend"));
  if (entry == nullptr) {
    throw Error(ErrorKind::internal, library.string() + " has no mlc_compute_backend entry point");
  }
  ComputeBackend* backend = entry();
  if (backend == nullptr) {
    throw Error(ErrorKind::internal,
                "the compute library " + library.string() + " returned no backend");
  }
  return *backend;
}

}  // namespace

ComputeBackend& load_compute_backend() {
  static ComputeBackend& backend = open_backend();
  return backend;
}

}  // namespace mlc
