#include "mlc/limits.hpp"

#include <sched.h>

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "mlc/environment.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace {

constexpr int kThreadsPerCore = 4;
constexpr uint64_t kDefaultMaxDataBytes = uint64_t{1} << 30;
constexpr const char* kMaxDataBytesVariable = "MLC_MAX_DATA_BYTES";

// The cores this process may run on: a container's cpuset, not the host's core count.
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

}  // namespace

int max_threads() { return kThreadsPerCore * usable_cores(); }

void check_thread_count(int64_t threads, const std::string& what) {
  const int limit = max_threads();
  if (threads > limit) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: {} threads is more than the limit of {} ({}x the {} cores of this "
                            "machine)",
                            what, threads, limit, kThreadsPerCore, limit / kThreadsPerCore));
  }
}

uint64_t max_data_bytes() {
  const auto value = environment_variable(kMaxDataBytesVariable);
  if (!value) return kDefaultMaxDataBytes;
  const std::string_view text(*value);
  uint64_t bytes = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (error != std::errc() || end != text.data() + text.size() || bytes == 0) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}='{}': expected a whole number of bytes of at least 1",
                            kMaxDataBytesVariable, text));
  }
  return bytes;
}

void throw_data_too_large(const std::string& path) {
  throw Error(ErrorKind::invalid_input,
              fmt::format("{}: more than {} bytes of data, the limit (set {} to raise it)", path,
                          max_data_bytes(), kMaxDataBytesVariable));
}

}  // namespace mlc
