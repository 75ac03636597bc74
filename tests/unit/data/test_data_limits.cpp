// What the readers refuse to read whole: files past max_data_bytes() (a CSV, /dev/zero, an IDX
// header promising too much, a gzip bomb) and CSV bytes that are not UTF-8.
#include <doctest/doctest.h>

#include <string>

#include "data_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"

using mlc::data::parse_csv;
using mlc::data::read_csv;
using mlc::data::read_idx;
using mlc::test::idx_bytes;
using mlc::test::ScopedEnv;
using mlc::test::TempDir;

namespace {

std::string too_large(const std::string& path, int limit) {
  return path + ": more than " + std::to_string(limit) +
         " bytes of data, the limit (set MLC_MAX_DATA_BYTES to raise it)";
}

}  // namespace

TEST_CASE("read_csv reads at most MLC_MAX_DATA_BYTES") {
  TempDir dir;
  const auto path = dir.write("table.csv", "a,b\n1,2\n3,4\n");  // 12 bytes
  SUBCASE("a file of the limit is read") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "12");
    CHECK(read_csv(path).rows.size() == 2);
  }
  SUBCASE("one byte more is refused by its size") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "11");
    REQUIRE_THROWS_WITH_AS(read_csv(path), too_large(path.string(), 11).c_str(), mlc::Error);
  }
  SUBCASE("a file without a size is refused once it passes the limit") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "100000");
    REQUIRE_THROWS_WITH_AS(read_csv("/dev/zero"), too_large("/dev/zero", 100000).c_str(),
                           mlc::Error);
  }
  SUBCASE("a limit that is not a number") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "1G");
    REQUIRE_THROWS_WITH_AS(read_csv(path),
                           "MLC_MAX_DATA_BYTES='1G': expected a whole number of bytes of at least 1",
                           mlc::Error);
  }
}

TEST_CASE("read_idx checks the size the header declares against MLC_MAX_DATA_BYTES") {
  TempDir dir;
  const auto path = dir / "images.gz";
  const std::string p = path.string();
  SUBCASE("refused from the header, before reading the data") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "1000");
    mlc::test::write_gzip(path, idx_bytes({1001}, {}));
    REQUIRE_THROWS_WITH_AS(read_idx(path), too_large(p, 1000).c_str(), mlc::Error);
  }
  SUBCASE("the default limit refuses a header of 60000 images of 1000x1000") {
    mlc::test::write_gzip(path, idx_bytes({60000, 1000, 1000}, {1, 2, 3}));
    REQUIRE_THROWS_WITH_AS(read_idx(path), too_large(p, 1 << 30).c_str(), mlc::Error);
  }
  SUBCASE("only the kept items count") {
    const ScopedEnv limit("MLC_MAX_DATA_BYTES", "4");
    mlc::test::write_gzip(path, idx_bytes({3, 2, 2}, std::vector<uint8_t>(12, 7)));
    CHECK(read_idx(path, 1).values.size() == 4);
    REQUIRE_THROWS_WITH_AS(read_idx(path, 2), too_large(p, 4).c_str(), mlc::Error);
  }
  SUBCASE("a gzip bomb behind a small header is not gunzipped to its end") {
    // 10 declared bytes, then 16 MiB of zeros (16 KiB gzipped): refused after 64 KiB of them.
    std::string bytes = idx_bytes({10}, std::vector<uint8_t>(10, 1));
    bytes.append(size_t{16} << 20, '\0');
    mlc::test::write_gzip(path, bytes);
    REQUIRE_THROWS_WITH_AS(
        read_idx(path), (p + ": expected 10 bytes of data after the header, found more than 65546").c_str(),
        mlc::Error);
  }
}

TEST_CASE("read_csv refuses bytes that are not UTF-8, naming the line") {
  const std::string name = "t.csv";
  SUBCASE("valid UTF-8 of every length is read") {
    const auto table = parse_csv("name,y\nK\xC3\xB6ln \xE2\x82\xAC \xF0\x9F\x8D\xB7,1\n", name);
    CHECK(table.rows[0][0] == "K\xC3\xB6ln \xE2\x82\xAC \xF0\x9F\x8D\xB7");
  }
  SUBCASE("a Latin-1 byte") {
    REQUIRE_THROWS_WITH_AS(parse_csv("name,y\nok,1\nK\xF6ln,2\n", name),
                           "t.csv:3: not valid UTF-8 (byte 0xF6 at offset 1)", mlc::Error);
  }
  SUBCASE("in the header, in a quoted field spanning lines") {
    REQUIRE_THROWS_WITH_AS(parse_csv("n\xFF,y\n", name),
                           "t.csv:1: not valid UTF-8 (byte 0xFF at offset 1)", mlc::Error);
    REQUIRE_THROWS_WITH_AS(parse_csv("n,y\n\"a\nb\x80\",1\n", name),
                           "t.csv:3: not valid UTF-8 (byte 0x80 at offset 1)", mlc::Error);
  }
  SUBCASE("overlong forms, surrogates, code points past U+10FFFF and cut-off sequences") {
    for (const std::string bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                  "\xF5\x80\x80\x80", "\xE2\x82"}) {
      CHECK_THROWS_AS(parse_csv("n,y\n" + bad + ",1\n", name), mlc::Error);
    }
  }
}

TEST_CASE("read_csv gunzips at most MLC_MAX_DATA_BYTES") {
  TempDir dir;
  const auto path = dir / "bomb.csv.gz";
  mlc::test::write_gzip(path, "a,b\n" + std::string(200000, '1') + ",2\n");  // a few hundred bytes
  const ScopedEnv limit("MLC_MAX_DATA_BYTES", "100000");
  REQUIRE_THROWS_WITH_AS(read_csv(path), too_large(path.string(), 100000).c_str(), mlc::Error);
}
