// parse_reference: NAME, NAME:VERSION, NAME@TARGET, and the name rules of check_name.
#include "fuzz_support.hpp"
#include "mlc/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlc::fuzz::expect_success_or_user_error(
      [&] { mlc::parse_reference(mlc::fuzz::as_text(data, size)); });
  return 0;
}
