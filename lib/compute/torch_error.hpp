// One-line messages from libtorch's exceptions, for mlc's one-line errors.
#pragma once

#include <algorithm>
#include <exception>
#include <string>

#include <c10/util/Exception.h>

namespace mlc::compute {

// c10::Error's what() carries a C++ backtrace after the message; mlc's errors are one line: the
// first line that says something (TorchScript's compile errors start with an empty one).
inline std::string first_line_of(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  const std::string text = torch_error ? torch_error->what_without_backtrace() : error.what();
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (text.find_first_not_of(" \t", start) < end) return text.substr(start, end - start);
    start = end + 1;
  }
  return text;
}

}  // namespace mlc::compute
