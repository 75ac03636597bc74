// What every fuzzer shares: the rule that decides what counts as a crash, and a scratch file for
// the readers that take a path.
//
// mlc may refuse any input, but only with an mlc::Error of a kind the CLI reports as the user's
// fault (usage, invalid input, ...). Anything else is a bug that the CLI would print as
// "internal error" (exit 1): another exception type, ErrorKind::internal, or a sanitizer report.
// The fuzzer then aborts, so libFuzzer keeps the input and shows the stack.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "mlc/error.hpp"

namespace mlc::fuzz {

// Runs `parse`; returns normally if it succeeded or refused the input as the user's fault.
template <typename Parse>
void expect_success_or_user_error(Parse parse) {
  try {
    parse();
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::internal) {
      std::fprintf(stderr, "internal error on this input: %s\n", error.what());
      std::abort();
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "exception other than mlc::Error on this input: %s\n", error.what());
    std::abort();
  }
}

// A directory of this process's own under $TMPDIR, removed when the process exits normally.
// Never destroyed (the exit handler still needs it), so it is held by a pointer.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path* const dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/mlc-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return new std::filesystem::path(pattern);
  }();
  static const bool removed_at_exit = std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(*dir, ignored);
  }) == 0;
  (void)removed_at_exit;
  return *dir;
}

// Writes `bytes` to scratch_dir()/name, replacing what was there, and returns the path.
inline std::filesystem::path write_scratch_file(const std::string& name, std::string_view bytes) {
  const std::filesystem::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace mlc::fuzz
