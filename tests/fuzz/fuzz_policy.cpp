// load_policy: MLC_HOME/policy.json, its schema and its metric rules.
#include "fuzz_support.hpp"
#include "mlc/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlc::fuzz::write_scratch_file("policy.json", mlc::fuzz::as_text(data, size));
  mlc::fuzz::expect_success_or_user_error([&] { mlc::load_policy(mlc::Home{mlc::fuzz::scratch_dir()}); });
  return 0;
}
