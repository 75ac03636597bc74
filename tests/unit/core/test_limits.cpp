#include <doctest/doctest.h>

#include <stdlib.h>

#include <string>

#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/limits.hpp"

TEST_CASE("check_thread_count: at most 4x the cores") {
  const int limit = mlc::max_threads();
  CHECK(limit >= 4);
  CHECK(limit % 4 == 0);
  CHECK_NOTHROW(mlc::check_thread_count(limit, "--threads"));
  const std::string message = "--threads: 100000 threads is more than the limit of " +
                              std::to_string(limit) + " (4x the " + std::to_string(limit / 4) +
                              " cores of this machine)";
  REQUIRE_THROWS_WITH_AS(mlc::check_thread_count(100000, "--threads"), message.c_str(),
                         mlc::Error);
}

TEST_CASE("max_data_bytes: 1 GiB, or MLC_MAX_DATA_BYTES") {
  ::unsetenv("MLC_MAX_DATA_BYTES");
  CHECK(mlc::max_data_bytes() == 1073741824);
  ::setenv("MLC_MAX_DATA_BYTES", "123", 1);
  CHECK(mlc::max_data_bytes() == 123);
  for (const char* bad : {"0", "-1", "1G", " 12", "99999999999999999999"}) {
    ::setenv("MLC_MAX_DATA_BYTES", bad, 1);
    REQUIRE_THROWS_WITH_AS(mlc::max_data_bytes(),
                           ("MLC_MAX_DATA_BYTES='" + std::string(bad) +
                            "': expected a whole number of bytes of at least 1")
                               .c_str(),
                           mlc::Error);
  }
  ::unsetenv("MLC_MAX_DATA_BYTES");
}

TEST_CASE("parse_utc_time: a long input is refused, not a stack overflow") {
  // Every quantifier of its pattern is bounded, so std::regex cannot recurse per character.
  const std::string long_fraction = "2026-11-01T12:00:00." + std::string(100000, '1') + "Z";
  CHECK_THROWS_AS(mlc::parse_utc_time(long_fraction, "--at"), mlc::Error);
  CHECK_THROWS_AS(mlc::parse_utc_time(std::string(100000, '2'), "--at"), mlc::Error);
}
