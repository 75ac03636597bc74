// read_csv on arbitrary bytes: quoting, line ends, byte order marks, ragged rows, header names.
#include "fuzz_support.hpp"
#include "mlc/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mlc::fuzz::write_scratch_file("table.csv", mlc::fuzz::as_text(data, size));
  mlc::fuzz::expect_success_or_user_error([&] { mlc::data::read_csv(path); });
  return 0;
}
