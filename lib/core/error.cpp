#include "mlc/error.hpp"

namespace mlc {

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
