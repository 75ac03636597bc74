// parse_json, the strict reader of every JSON document users give mlc (configs, --set values,
// policies, manifests): duplicate keys, depth, integer range, positions in messages. A document
// it accepts must print as JSON (dump) that it accepts again as the same document, since mlc
// prints what it read (show, --json, the catalogue).
#include "fuzz_support.hpp"
#include "mlc/json_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlc::fuzz::expect_success_or_user_error([&] {
    const nlohmann::json document = mlc::parse_json(mlc::fuzz::as_text(data, size), "fuzz.json");
    if (mlc::parse_json(document.dump(), "dump") != document) {
      std::fprintf(stderr, "accepted, but its dump reads back differently: %s\n",
                   document.dump().c_str());
      std::abort();
    }
  });
  return 0;
}
