#include <string>

#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/text.hpp"

using mlc::Error;

TEST_CASE("is_utf8") {
  CHECK(mlc::is_utf8(""));
  CHECK(mlc::is_utf8("plain ASCII"));
  CHECK(mlc::is_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  CHECK(mlc::is_utf8("\xF4\x8F\xBF\xBF"));                            // U+10FFFF, the last
  SUBCASE("bytes that never start a character") {
    CHECK_FALSE(mlc::is_utf8("\xFF"));
    CHECK_FALSE(mlc::is_utf8("a\x80"));  // a stray continuation byte
    CHECK_FALSE(mlc::is_utf8("\xC0\xAF"));  // 0xC0 and 0xC1 only start overlong forms
  }
  SUBCASE("overlong forms, surrogates, beyond U+10FFFF") {
    CHECK_FALSE(mlc::is_utf8("\xE0\x80\xAF"));
    CHECK_FALSE(mlc::is_utf8("\xF0\x80\x80\xAF"));
    CHECK_FALSE(mlc::is_utf8("\xED\xA0\x80"));  // U+D800
    CHECK_FALSE(mlc::is_utf8("\xF4\x90\x80\x80"));
  }
  SUBCASE("a sequence cut short") {
    CHECK_FALSE(mlc::is_utf8("\xE2\x82"));
    CHECK_FALSE(mlc::is_utf8("\xE2\x82z"));
  }
}

TEST_CASE("check_utf8 names the option, the byte and its offset") {
  CHECK_NOTHROW(mlc::check_utf8("a\nb", "--reason"));
  REQUIRE_THROWS_WITH_AS(mlc::check_utf8("ok\xFFno", "--reason"),
                         "--reason: not valid UTF-8 (byte 0xFF at offset 2)", Error);
  try {
    mlc::check_utf8("\xFF", "MLC_ACTOR");
    FAIL("no error thrown");
  } catch (const Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::invalid_input);
  }
}

TEST_CASE("check_text refuses control characters as well") {
  CHECK_NOTHROW(mlc::check_text("replaced after the incident \xE2\x80\x94 see #12", "--reason"));
  REQUIRE_THROWS_WITH_AS(mlc::check_text("a\nb", "--reason"),
                         "--reason: control character U+000A at offset 1 is not allowed", Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_text("\x1b[2J", "--description"),
                         "--description: control character U+001B at offset 0 is not allowed",
                         Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_text("tab\there", "--tag"),
                         "--tag: control character U+0009 at offset 3 is not allowed", Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_text("del\x7f", "x"),
                         "x: control character U+007F at offset 3 is not allowed", Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_text("c1 \xC2\x9B", "x"),
                         "x: control character U+009B at offset 3 is not allowed", Error);
  REQUIRE_THROWS_WITH_AS(mlc::check_text("\xFF\n", "x"),
                         "x: not valid UTF-8 (byte 0xFF at offset 0)", Error);
}

TEST_CASE("printable escapes what would forge a line or drive a terminal") {
  CHECK(mlc::printable("caf\xC3\xA9 C:\\path") == "caf\xC3\xA9 C:\\path");
  CHECK(mlc::printable("forged\n2026-01-01  evil") == "forged\\n2026-01-01  evil");
  CHECK(mlc::printable("\x1b[31mred\r\t") == "\\x1b[31mred\\r\\t");
  CHECK(mlc::printable("\x7f \xC2\x85") == "\\x7f \\u0085");
  CHECK(mlc::printable("bad \xFF\xE2\x82") == "bad \\xff\\xe2\\x82");
  CHECK(mlc::printable(std::string("nul\0end", 7)) == "nul\\x00end");
  SUBCASE("a block keeps its line breaks") {
    CHECK(mlc::printable("row 1\nrow \x1b 2\n", mlc::Newlines::keep) == "row 1\nrow \\x1b 2\n");
  }
  SUBCASE("the result is always clean UTF-8") {
    const std::string escaped = mlc::printable("\xC0\xAF\xED\xA0\x80\x01");
    CHECK(mlc::is_utf8(escaped));
    CHECK_NOTHROW(mlc::check_text(escaped, "escaped"));
  }
}

TEST_CASE("shortened") {
  CHECK(mlc::shortened("abc", 3) == "abc");
  CHECK(mlc::shortened("abcd", 3) == "abc...");
  CHECK(mlc::shortened("\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9...");  // never mid-character
  CHECK(mlc::shortened("", 0) == "");
}
