#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "data_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"

using mlc::data::read_idx;
using mlc::test::idx_bytes;
using mlc::test::TempDir;

namespace {

// Three 2x2 "images" whose pixels count up from 0.
std::vector<uint8_t> twelve_values() {
  std::vector<uint8_t> values(12);
  std::iota(values.begin(), values.end(), uint8_t{0});
  return values;
}

}  // namespace

TEST_CASE("read_idx reads plain and gzipped files") {
  TempDir dir;
  const std::string bytes = idx_bytes({3, 2, 2}, twelve_values());

  SUBCASE("plain") {
    mlc::test::write_file(dir / "images-idx3-ubyte", bytes);
    const auto array = read_idx(dir / "images-idx3-ubyte");
    CHECK(array.dims == std::vector<int64_t>{3, 2, 2});
    CHECK(array.values == twelve_values());
  }
  SUBCASE("gzipped") {
    mlc::test::write_gzip(dir / "images-idx3-ubyte.gz", bytes);
    const auto array = read_idx(dir / "images-idx3-ubyte.gz");
    CHECK(array.dims == std::vector<int64_t>{3, 2, 2});
    CHECK(array.values == twelve_values());
  }
  SUBCASE("one dimension") {
    mlc::test::write_gzip(dir / "labels.gz", idx_bytes({4}, {7, 0, 255, 3}));
    const auto array = read_idx(dir / "labels.gz");
    CHECK(array.dims == std::vector<int64_t>{4});
    CHECK(array.values == std::vector<uint8_t>{7, 0, 255, 3});
  }
  SUBCASE("no items") {
    mlc::test::write_file(dir / "empty", idx_bytes({0, 28, 28}, {}));
    const auto array = read_idx(dir / "empty");
    CHECK(array.dims == std::vector<int64_t>{0, 28, 28});
    CHECK(array.values.empty());
  }
}

TEST_CASE("read_idx keeps the first `limit` items") {
  TempDir dir;
  mlc::test::write_gzip(dir / "images.gz", idx_bytes({3, 2, 2}, twelve_values()));

  SUBCASE("fewer than stored") {
    const auto array = read_idx(dir / "images.gz", 2);
    CHECK(array.dims == std::vector<int64_t>{2, 2, 2});
    CHECK(array.values == std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7});
  }
  SUBCASE("more than stored keeps all") {
    const auto array = read_idx(dir / "images.gz", 10);
    CHECK(array.dims == std::vector<int64_t>{3, 2, 2});
    CHECK(array.values == twelve_values());
  }
  SUBCASE("items after the limit are not checked") {
    auto values = twelve_values();
    values.resize(9);  // the third image is cut short
    mlc::test::write_file(dir / "short", idx_bytes({3, 2, 2}, values));
    CHECK(read_idx(dir / "short", 2).values.size() == 8);
  }
}

TEST_CASE("read_idx rejects files it cannot use") {
  TempDir dir;
  const auto path = dir / "data";
  const std::string p = path.string();

  SUBCASE("missing file") {
    REQUIRE_THROWS_WITH_AS(
        read_idx(dir / "missing.gz"),
        ("cannot open " + (dir / "missing.gz").string() + ": No such file or directory").c_str(),
        mlc::Error);
    try {
      read_idx(dir / "missing");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::not_found);
    }
  }
  SUBCASE("bad magic number: float type") {
    std::string bytes = idx_bytes({1}, {0, 0, 0, 0});
    bytes[2] = '\x0d';
    mlc::test::write_file(path, bytes);
    REQUIRE_THROWS_WITH_AS(read_idx(path), (p + ": bad IDX magic number 0x00000d01").c_str(),
                           mlc::Error);
    try {
      read_idx(path);
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    }
  }
  SUBCASE("bad magic number: not IDX at all") {
    mlc::test::write_gzip(path, "PK\x03\x04 a zip file");
    REQUIRE_THROWS_WITH_AS(read_idx(path), (p + ": bad IDX magic number 0x504b0304").c_str(),
                           mlc::Error);
  }
  SUBCASE("bad magic number: no dimensions") {
    mlc::test::write_file(path, std::string("\0\0\x08\0", 4));
    REQUIRE_THROWS_WITH_AS(read_idx(path), (p + ": bad IDX magic number 0x00000800").c_str(),
                           mlc::Error);
  }
  SUBCASE("header cut short") {
    mlc::test::write_file(path, std::string("\0\0", 2));
    REQUIRE_THROWS_WITH_AS(read_idx(path),
                           (p + ": expected 4 bytes of IDX header, found 2").c_str(), mlc::Error);
    mlc::test::write_file(path, idx_bytes({3, 2, 2}, {}).substr(0, 10));
    REQUIRE_THROWS_WITH_AS(read_idx(path),
                           (p + ": expected 16 bytes of IDX header, found 10").c_str(), mlc::Error);
  }
  SUBCASE("too few bytes of data") {
    auto values = twelve_values();
    values.resize(10);
    mlc::test::write_gzip(path, idx_bytes({3, 2, 2}, values));
    REQUIRE_THROWS_WITH_AS(read_idx(path),
                           (p + ": expected 12 bytes of data after the header, found 10").c_str(),
                           mlc::Error);
  }
  SUBCASE("trailing bytes") {
    auto values = twelve_values();
    values.push_back(99);
    mlc::test::write_file(path, idx_bytes({3, 2, 2}, values));
    REQUIRE_THROWS_WITH_AS(read_idx(path),
                           (p + ": expected 12 bytes of data after the header, found 13").c_str(),
                           mlc::Error);
  }
  SUBCASE("dimensions whose product overflows") {
    mlc::test::write_file(path, idx_bytes({0xffffffff, 0xffffffff, 0xffffffff}, {}));
    REQUIRE_THROWS_WITH_AS(
        read_idx(path),
        (p + ": IDX dimensions 4294967295x4294967295x4294967295 are too large").c_str(),
        mlc::Error);
  }
  SUBCASE("a header promising more than the file holds") {
    mlc::test::write_file(path, idx_bytes({60000, 100, 100}, {1, 2, 3}));
    REQUIRE_THROWS_WITH_AS(
        read_idx(path),
        (p + ": expected 600000000 bytes of data after the header, found 3").c_str(), mlc::Error);
  }
}

TEST_CASE("read_idx rejects a damaged gzip stream") {
  TempDir dir;
  const auto whole = dir / "whole.gz";
  const auto path = dir / "damaged.gz";
  std::vector<uint8_t> values(5000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 7919 % 251);
  mlc::test::write_gzip(whole, idx_bytes({5000}, values));
  const std::string gzipped = mlc::test::read_file(whole);

  SUBCASE("truncated") {
    mlc::test::write_file(path, gzipped.substr(0, gzipped.size() / 2));
    REQUIRE_THROWS_WITH_AS(read_idx(path), (path.string() + ": truncated gzip stream").c_str(),
                           mlc::Error);
  }
  SUBCASE("only the trailer missing") {
    mlc::test::write_file(path, gzipped.substr(0, gzipped.size() - 8));
    REQUIRE_THROWS_WITH_AS(read_idx(path), (path.string() + ": truncated gzip stream").c_str(),
                           mlc::Error);
  }
  SUBCASE("checksum wrong") {
    std::string corrupt = gzipped;
    corrupt[corrupt.size() - 8] ^= 0x01;  // the CRC-32 of the trailer
    mlc::test::write_file(path, corrupt);
    REQUIRE_THROWS_WITH_AS(read_idx(path),
                           (path.string() + ": corrupt gzip stream (incorrect data check)").c_str(),
                           mlc::Error);
  }
}

TEST_CASE("read_idx reads the Fashion-MNIST test set") {
  const std::filesystem::path dir = MLC_FASHION_MNIST_DIR;
  const auto labels = read_idx(dir / "t10k-labels-idx1-ubyte.gz");
  CHECK(labels.dims == std::vector<int64_t>{10000});
  REQUIRE(labels.values.size() == 10000);
  CHECK(std::all_of(labels.values.begin(), labels.values.end(), [](uint8_t v) { return v < 10; }));

  const auto images = read_idx(dir / "t10k-images-idx3-ubyte.gz", 5);
  CHECK(images.dims == std::vector<int64_t>{5, 28, 28});
  CHECK(images.values.size() == 5 * 28 * 28);
}
