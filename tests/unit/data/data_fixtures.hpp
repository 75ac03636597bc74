// Fixture files for the data tests: a fresh directory per test, and writers for plain, gzipped
// and IDX files.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace mlc::test {

inline void write_gzip(const std::filesystem::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("cannot write " + path.string());
  const int written = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(file) != Z_OK || written != static_cast<int>(bytes.size())) {
    throw std::runtime_error("cannot gzip " + path.string());
  }
}

// The bytes of an IDX file of unsigned bytes: magic number, big-endian dims, then `values`.
inline std::string idx_bytes(const std::vector<uint32_t>& dims,
                             const std::vector<uint8_t>& values) {
  std::string bytes = {'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((dim >> shift) & 0xff);
  }
  bytes.append(values.begin(), values.end());
  return bytes;
}

// Sets an environment variable for the life of the object (MLC_MAX_DATA_BYTES in the limit
// tests) and restores what was there before.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) previous_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_previous()) {
      ::setenv(name_, previous_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  bool had_previous() const { return !previous_.empty(); }
  const char* name_;
  std::string previous_;
};

}  // namespace mlc::test
