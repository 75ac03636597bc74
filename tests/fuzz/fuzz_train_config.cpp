// load_train_config: JSON parsing, --set overrides, schema defaults and the JSON Schema validator
// against schemas/train-config.schema.json. The input is the config file, then optionally
// NUL-separated --set arguments ("KEY.PATH=VALUE").
#include <vector>

#include "fuzz_support.hpp"
#include "mlc/train_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = mlc::fuzz::as_text(data, size);
  const size_t end_of_file = input.find('\0');
  std::vector<std::string> overrides;
  if (end_of_file != std::string_view::npos) {
    std::string_view rest = input.substr(end_of_file + 1);
    while (true) {
      const size_t end = rest.find('\0');
      overrides.emplace_back(rest.substr(0, end));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  const auto path = mlc::fuzz::write_scratch_file("config.json", input.substr(0, end_of_file));
  mlc::fuzz::expect_success_or_user_error([&] { mlc::load_train_config(path, overrides); });
  return 0;
}
