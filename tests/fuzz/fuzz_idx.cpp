// read_idx on arbitrary bytes, gzipped or not (zlib reads both through one path): headers, sizes
// that do not match the data, truncated and corrupt gzip streams; with and without a limit.
#include "fuzz_support.hpp"
#include "mlc/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mlc::fuzz::write_scratch_file("images-idx3-ubyte.gz", mlc::fuzz::as_text(data, size));
  mlc::fuzz::expect_success_or_user_error([&] { mlc::data::read_idx(path); });
  mlc::fuzz::expect_success_or_user_error([&] { mlc::data::read_idx(path, 1); });
  return 0;
}
