#include "mlc/error.hpp"

#include <string.h>  // strerror_r: glibc declares its GNU form here with _GNU_SOURCE (g++ defines it)

namespace mlc {
namespace {

// strerror_r comes in two forms: GNU returns the text (maybe not in `buffer`), XSI returns 0 and
// fills `buffer`. Overloads on the return type take whichever this libc declares.
[[maybe_unused]] std::string strerror_result(const char* text, const char*) { return text; }
[[maybe_unused]] std::string strerror_result(int status, const char* buffer) {
  return status == 0 ? std::string(buffer) : std::string("unknown error");
}

}  // namespace

std::string os_error_text(int error) {
  char buffer[256] = {};
  return strerror_result(strerror_r(error, buffer, sizeof buffer), buffer);
}

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return 2;
    case ErrorKind::gate_failed: return 3;
    case ErrorKind::not_found: return 4;
    case ErrorKind::invalid_input: return 5;
    case ErrorKind::refused: return 6;
    case ErrorKind::integrity: return 7;
    case ErrorKind::catalog: return 8;
    case ErrorKind::internal: return 1;
    case ErrorKind::interrupted: return 130;
  }
  return 1;
}

}  // namespace mlc
