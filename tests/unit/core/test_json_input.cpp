#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "mlc/error.hpp"
#include "mlc/json_input.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;
using mlc::Error;
using mlc::test::TempDir;
using nlohmann::json;

namespace {

// Sets MLC_MAX_JSON_BYTES for one test and unsets it afterwards.
class MaxJsonBytes {
 public:
  explicit MaxJsonBytes(const char* value) { ::setenv("MLC_MAX_JSON_BYTES", value, 1); }
  ~MaxJsonBytes() { ::unsetenv("MLC_MAX_JSON_BYTES"); }
  MaxJsonBytes(const MaxJsonBytes&) = delete;
  MaxJsonBytes& operator=(const MaxJsonBytes&) = delete;
};

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("parse_json reads what json::parse reads") {
  const std::string text =
      R"({"a": [1, -2, 18446744073709551615, 0.5, "\u00e9", true, null], "b": {"c": {}}})";
  CHECK(mlc::parse_json(text, "t.json") == json::parse(text));
  CHECK(mlc::parse_json("7", "t.json") == 7);
  CHECK(mlc::parse_json(R"({"a": 1, "b": {"a": 2}})", "t.json")["b"]["a"] == 2);  // not duplicates
}

TEST_CASE("parse_json refuses a duplicate key, naming its path") {
  SUBCASE("at the top: the second \"targets\" would have replaced every rule") {
    REQUIRE_THROWS_WITH_AS(
        mlc::parse_json(R"({"targets": {"production": {"requires_deployed_to": ["staging"]}},
                            "targets": {}})",
                        "policy.json"),
        R"(policy.json: targets: duplicate key "targets")", Error);
  }
  SUBCASE("nested, inside an array") {
    REQUIRE_THROWS_WITH_AS(
        mlc::parse_json(R"({"model": {"layers": [{}, {"type": "relu", "type": "gelu"}]}})", "m.json"),
        R"(m.json: model.layers[1].type: duplicate key "type")", Error);
  }
  SUBCASE("a long key is cut short in the message") {
    const std::string key(100, 'k');
    CHECK_THROWS_WITH_AS(mlc::parse_json("{\"" + key + "\": 1, \"" + key + "\": 2}", "t.json"),
                         ("t.json: " + key.substr(0, 40) + "...: duplicate key \"" +
                          key.substr(0, 40) + "...\"")
                             .c_str(),
                         Error);
  }
  SUBCASE("the kind is invalid_input") {
    try {
      mlc::parse_json(R"({"a": 1, "a": 1})", "t.json");
      FAIL("no error thrown");
    } catch (const Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    }
  }
}

TEST_CASE("parse_json bounds the depth before anything can recurse") {
  CHECK(mlc::parse_json(nested_arrays(mlc::kMaxJsonDepth), "t.json").is_array());
  std::string deepest_path;
  for (size_t level = 0; level < mlc::kMaxJsonDepth; ++level) deepest_path += "[0]";
  REQUIRE_THROWS_WITH_AS(
      mlc::parse_json(nested_arrays(mlc::kMaxJsonDepth + 1), "t.json"),
      ("t.json: " + deepest_path + ": nested deeper than 64 levels of arrays and objects").c_str(),
      Error);
  SUBCASE("70,000 levels: one error, no stack overflow") {
    CHECK_THROWS_AS(mlc::parse_json(nested_arrays(70000), "t.json"), Error);
    std::string objects;
    for (int level = 0; level < 70000; ++level) objects += "{\"a\":";
    CHECK_THROWS_WITH_AS(mlc::parse_json(objects + "1" + std::string(70000, '}'), "t.json"),
                         doctest::Contains("nested deeper than 64 levels"), Error);
  }
}

TEST_CASE("parse_json refuses integers that 64 bits cannot hold") {
  CHECK(mlc::parse_json("-9223372036854775808", "t.json") == INT64_MIN);
  CHECK(mlc::parse_json("1e30", "t.json").is_number_float());  // written as a float: a float
  REQUIRE_THROWS_WITH_AS(
      mlc::parse_json(R"({"training": {"seed": 18446744073709551616}})", "t.json"),
      "t.json: training.seed: integer 18446744073709551616 is out of range (at most 64 bits)",
      Error);
  REQUIRE_THROWS_WITH_AS(mlc::parse_json("[1, -99999999999999999999]", "t.json"),
                         "t.json: [1]: integer -99999999999999999999 is out of range (at most 64 "
                         "bits)",
                         Error);
}

TEST_CASE("parse_json: invalid JSON has its line and column") {
  REQUIRE_THROWS_WITH_AS(mlc::parse_json("{\n  \"a\": [1, 2,]\n}", "t.json"),
                         "t.json:2:14: invalid JSON: unexpected ']'; expected '[', '{', or a literal",
                         Error);
  REQUIRE_THROWS_WITH_AS(mlc::parse_json("{} {}", "t.json"),
                         "t.json:1:4: invalid JSON: unexpected '{'; expected end of input", Error);
  CHECK_THROWS_WITH_AS(mlc::parse_json("\"\xFF\"", "t.json"),
                       doctest::Contains("t.json:1:2: invalid JSON: invalid string: ill-formed "
                                         "UTF-8 byte"),
                       Error);
  CHECK_THROWS_WITH_AS(mlc::parse_json("1e999", "t.json"),
                       doctest::Contains("invalid JSON: number overflow parsing '1e999'"), Error);
}

TEST_CASE("read_json_text") {
  TempDir dir;
  SUBCASE("a file") {
    CHECK(mlc::read_json_text(dir.write("a.json", "{\"a\": 1}")) == "{\"a\": 1}");
  }
  SUBCASE("files it cannot read") {
    REQUIRE_THROWS_WITH_AS(mlc::read_json_text(dir / "missing.json"),
                           ("cannot read " + (dir / "missing.json").string() +
                            ": No such file or directory")
                               .c_str(),
                           Error);
    REQUIRE_THROWS_WITH_AS(mlc::read_json_text(dir.path()),
                           ("cannot read " + dir.path().string() + ": Is a directory").c_str(),
                           Error);
    try {
      mlc::read_json_text(dir / "missing.json");
      FAIL("no error thrown");
    } catch (const Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::not_found);
    }
  }
  SUBCASE("a file over the limit is refused before it is read") {
    const fs::path file = dir.write("big.json", std::string(2000, ' ') + "1");
    MaxJsonBytes limit("2000");
    REQUIRE_THROWS_WITH_AS(mlc::read_json_text(file),
                           (file.string() + ": larger than 2000 bytes (the limit for JSON input; "
                                            "MLC_MAX_JSON_BYTES raises it)")
                               .c_str(),
                           Error);
  }
  SUBCASE("exactly the limit is read") {
    const fs::path file = dir.write("big.json", std::string(1999, ' ') + "1");
    MaxJsonBytes limit("2000");
    CHECK(mlc::read_json_text(file).size() == 2000);
  }
  SUBCASE("a device without end stops at the limit") {
    MaxJsonBytes limit("100000");
    REQUIRE_THROWS_WITH_AS(mlc::read_json_text("/dev/zero"),
                           "/dev/zero: larger than 100000 bytes (the limit for JSON input; "
                           "MLC_MAX_JSON_BYTES raises it)",
                           Error);
  }
  SUBCASE("a FIFO") {
    const fs::path fifo = dir / "config.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] { std::ofstream(fifo) << "{\"from\": \"a pipe\"}"; });
    const std::string text = mlc::read_json_text(fifo);
    writer.join();
    CHECK(text == "{\"from\": \"a pipe\"}");
  }
}

TEST_CASE("max_json_bytes") {
  CHECK(mlc::max_json_bytes() == mlc::kDefaultMaxJsonBytes);
  CHECK(mlc::kDefaultMaxJsonBytes == 16 * 1024 * 1024);
  {
    MaxJsonBytes limit("12345");
    CHECK(mlc::max_json_bytes() == 12345);
  }
  for (const char* bad : {"0", "-1", "16M", "1.5", " 1"}) {
    CAPTURE(bad);
    MaxJsonBytes limit(bad);
    CHECK_THROWS_WITH_AS(mlc::max_json_bytes(),
                         ("MLC_MAX_JSON_BYTES: '" + std::string(bad) +
                          "' is not a positive number of bytes")
                             .c_str(),
                         Error);
  }
}

TEST_CASE("read_json_file reads and parses, naming the file") {
  TempDir dir;
  const fs::path file = dir.write("m.json", R"({"metrics": {"accuracy": 0.9, "accuracy": 0.1}})");
  REQUIRE_THROWS_WITH_AS(mlc::read_json_file(file),
                         (file.string() + R"(: metrics.accuracy: duplicate key "accuracy")").c_str(),
                         Error);
}
