#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/reference.hpp"

using mlc::Error;
using mlc::Reference;
using mlc::parse_reference;

TEST_CASE("parse_reference: the three forms") {
  const Reference latest = parse_reference("fmnist");
  CHECK(latest.kind == Reference::Kind::latest);
  CHECK(latest.model == "fmnist");

  const Reference version = parse_reference("fmnist:12");
  CHECK(version.kind == Reference::Kind::version);
  CHECK(version.version == 12);

  const Reference target = parse_reference("fm.v2_x-y@production");
  CHECK(target.kind == Reference::Kind::target);
  CHECK(target.model == "fm.v2_x-y");
  CHECK(target.target == "production");
}

TEST_CASE("parse_reference: malformed references are usage errors") {
  SUBCASE("bad version") {
    REQUIRE_THROWS_WITH_AS(parse_reference("m:0"),
                           "reference 'm:0': version '0' is not a positive integer (expected NAME, "
                           "NAME:VERSION or NAME@TARGET)",
                           Error);
    REQUIRE_THROWS_AS(parse_reference("m:1x"), Error);
    REQUIRE_THROWS_AS(parse_reference("m:"), Error);
  }
  SUBCASE("both separators") {
    REQUIRE_THROWS_WITH_AS(parse_reference("m:1@prod"),
                           "reference 'm:1@prod': both ':' and '@' (expected NAME, NAME:VERSION or "
                           "NAME@TARGET)",
                           Error);
  }
  SUBCASE("bad names") {
    REQUIRE_THROWS_AS(parse_reference("../m"), Error);
    REQUIRE_THROWS_AS(parse_reference("m@a/b"), Error);
    REQUIRE_THROWS_AS(parse_reference(""), Error);
  }
}

TEST_CASE("check_name: one safe path component") {
  CHECK_NOTHROW(mlc::check_name("Model-1.2_b", "model name"));
  REQUIRE_THROWS_WITH_AS(mlc::check_name("..", "model name"),
                         "model name '..' must not start with '.' (such names are mlc's own bookkeeping)",
                         Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_name("a/b", "target"),
                         "target 'a/b' may contain only letters, digits, '.', '_' and '-'", Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_name("", "model name"), "model name must not be empty", Error);
  REQUIRE_THROWS_AS(mlc::check_name(std::string(129, 'a'), "model name"), Error);
  try {
    mlc::check_name("a b", "model name");
  } catch (const Error& e) {
    CHECK(e.kind() == mlc::ErrorKind::invalid_input);
  }
}

// A leading '.' is what every bookkeeping name beside a name's directory starts with
// (".m.new-<hex>", ".m.removed-<hex>", ".model.pt.tmp-<hex>"): no name may, of any kind.
TEST_CASE("check_name: a leading '.' is refused for every kind of name") {
  for (const char* what : {"model name", "target", "alias"}) {
    for (const char* name : {".m.new-1", ".m.removed-0123456789abcdef", ".", ".hidden"}) {
      CAPTURE(what);
      CAPTURE(name);
      try {
        mlc::check_name(name, what);
        FAIL("accepted");
      } catch (const Error& e) {
        CHECK(e.kind() == mlc::ErrorKind::invalid_input);
        CHECK(std::string(e.what()) == std::string(what) + " '" + name +
                                           "' must not start with '.' (such names are mlc's own bookkeeping)");
      }
    }
  }
  CHECK_NOTHROW(mlc::check_name("m.new-1", "model name"));  // a '.' inside a name is fine
  REQUIRE_THROWS_AS(parse_reference(".m.new-1:1"), Error);
  REQUIRE_THROWS_AS(parse_reference("m@.prod"), Error);
}
