// One-line messages from libtorch's exceptions, for mlc's one-line errors.
#pragma once

#include <exception>
#include <string>

#include <c10/util/Exception.h>

namespace mlc::compute {

// c10::Error's what() carries a C++ backtrace after the message; mlc's errors are one line.
inline std::string first_line_of(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  const std::string text = torch_error ? torch_error->what_without_backtrace() : error.what();
  return text.substr(0, text.find('\n'));
}

}  // namespace mlc::compute
