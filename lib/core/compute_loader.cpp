// dlopen()s the libtorch half only when a compute subcommand needs it (see compute.hpp for why).
#include <cstdlib>

#include "bundled_library.hpp"
#include "mlc/compute.hpp"
#include "mlc/environment.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace {

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
  using Entry = ComputeBackend* (*)();
  const LibraryEntry library = bundled_library_entry(
      "the compute library", "libmlc_compute.so", "mlc_compute_backend", environment_variable("MLC_COMPUTE_LIB"));
  ComputeBackend* backend = reinterpret_cast<Entry>(library.symbol)();
  if (backend == nullptr) {
    throw Error(ErrorKind::internal, "the compute library " + library.path + " returned no backend");
  }
  return *backend;
}

}  // namespace

ComputeBackend& load_compute_backend() {
  static ComputeBackend& backend = open_backend();
  return backend;
}

}  // namespace mlc
