// read_csv on arbitrary bytes (quoting, line ends, byte order marks, ragged rows, header names),
// then the table as training data: load_splits with its last column as the target, as classes
// and as a regression target (numbers, missing cells, UTF-8, degenerate tables).
#include "fuzz_support.hpp"
#include "mlc/data.hpp"

namespace {

void split(const std::filesystem::path& path, const std::string& target, const char* task) {
  const nlohmann::json data = {{"format", "csv"}, {"path", path.string()}, {"target", target},
                               {"task", task}, {"test_fraction", 0.2}, {"validation_fraction", 0.1}};
  mlc::data::load_splits(data, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mlc::fuzz::write_scratch_file("table.csv", mlc::fuzz::as_text(data, size));
  mlc::fuzz::expect_success_or_user_error([&] {
    const mlc::data::CsvTable table = mlc::data::read_csv(path);
    for (const char* task : {"classification", "regression"}) {
      mlc::fuzz::expect_success_or_user_error([&] { split(path, table.header.back(), task); });
    }
  });
  return 0;
}
