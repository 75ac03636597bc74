// parse_policy: MLC_HOME/policy.json's text, read strictly, its schema and its metric rules.
#include "fuzz_support.hpp"
#include "mlc/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlc::fuzz::expect_success_or_user_error(
      [&] { mlc::parse_policy(mlc::fuzz::as_text(data, size), "policy.json"); });
  return 0;
}
