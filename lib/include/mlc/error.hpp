// The one error type mlc's library throws, and the exit code each kind maps to.
//
// Expected failures (bad input, a refused transition, a failed gate) are thrown as mlc::Error with
// a Kind; the CLI catches exactly once at the top, prints `mlc: error: <message>` and exits with
// exit_code(kind). Messages are one line and name the file, line, key or value at fault.
// Errors of libtorch (c10::Error) and SQLite are translated into mlc::Error at the library
// boundary, so nothing else escapes to the CLI.
#pragma once

#include <stdexcept>
#include <string>

namespace mlc {

enum class ErrorKind {
  usage,         // bad command line: unknown flag, malformed REF or --set (exit 2)
  gate_failed,   // an eval quality gate did not pass (exit 3)
  not_found,     // unknown model, version, target or file (exit 4)
  invalid_input, // data or config that cannot be used: schema, CSV, IDX, names (exit 5)
  refused,       // an illegal lifecycle transition (exit 6)
  integrity,     // an artifact whose sha256 does not match the catalogue (exit 7)
  catalog,       // the catalogue could not be read or written (exit 8)
  internal,      // a bug or an unexpected failure of libtorch or the OS (exit 1)
  interrupted,   // stopped by SIGINT/SIGTERM; training saved its state to resume (exit 130)
};

// Process exit status for each kind; documented in README.md and man/mlc.1.
int exit_code(ErrorKind kind);

// The OS's description of errno value `error` ("No such file or directory"), through strerror_r:
// std::strerror may return a buffer shared between threads, and mlc serve reads files from several.
std::string os_error_text(int error);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace mlc
