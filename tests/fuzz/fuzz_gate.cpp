// parse_gate: "METRIC OP NUMBER" as mlc eval --gate takes it.
#include "fuzz_support.hpp"
#include "mlc/operations.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlc::fuzz::expect_success_or_user_error(
      [&] { mlc::parse_gate(std::string(mlc::fuzz::as_text(data, size))); });
  return 0;
}
