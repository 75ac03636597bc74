#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "mlc/markup.hpp"

TEST_CASE("markup_escaped: markup characters as entities, what XML cannot hold made visible") {
  CHECK(mlc::markup_escaped("plain T-shirt/top") == "plain T-shirt/top");
  CHECK(mlc::markup_escaped("<b>&\"x'") == "&lt;b&gt;&amp;&quot;x&#39;");
  CHECK(mlc::markup_escaped("&amp;") == "&amp;amp;");  // an entity in the text stays text
  CHECK(mlc::markup_escaped("caf\xC3\xA9") == "caf\xC3\xA9");
  SUBCASE("control characters and invalid UTF-8, which no XML parser takes") {
    CHECK(mlc::markup_escaped("a\x1b[31mb") == "a\\x1b[31mb");
    CHECK(mlc::markup_escaped("a\xFF") == "a\\xff");
    CHECK(mlc::markup_escaped("line one\nline two") == "line one\nline two");  // kept for <pre>
  }
  SUBCASE("U+FFFE and U+FFFF are UTF-8 but not XML characters") {
    CHECK(mlc::markup_escaped("a\xEF\xBF\xBE" "b\xEF\xBF\xBF") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  }
}

TEST_CASE("markdown_escaped: renders as itself and stays one table cell") {
  CHECK(mlc::markdown_escaped("Ankle boot") == "Ankle boot");
  CHECK(mlc::markdown_escaped("a|b") == "a\\|b");
  CHECK(mlc::markdown_escaped("<b>&\"x") == "\\<b\\>\\&\"x");
  CHECK(mlc::markdown_escaped("*bold* _it_ `code` [link] #1 ~s~ \\") ==
        "\\*bold\\* \\_it\\_ \\`code\\` \\[link\\] \\#1 \\~s\\~ \\\\");
  CHECK(mlc::markdown_escaped("two\nlines") == "two\\\\nlines");  // visible \n, its backslash escaped
}

TEST_CASE("number_text") {
  CHECK(mlc::number_text(14) == "14");
  CHECK(mlc::number_text(-0.0) == "0");
  CHECK(mlc::number_text(0.88123) == "0.8812");
  CHECK(mlc::number_text(1.5e-6) == "1.5e-06");
  CHECK(mlc::number_text(std::nan("")) == "nan");
  CHECK(mlc::number_text(-HUGE_VAL) == "-inf");
}
