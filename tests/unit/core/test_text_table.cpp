#include <doctest/doctest.h>

#include <stdexcept>

#include "mlc/text_table.hpp"

TEST_CASE("display_width") {
  CHECK(mlc::display_width("") == 0);
  CHECK(mlc::display_width("model") == 5);
  CHECK(mlc::display_width("caf\xc3\xa9") == 4);          // é: two bytes, one column
  CHECK(mlc::display_width("\xe6\xa8\xa1\xe5\x9e\x8b") == 4);  // 模型: two wide characters
  CHECK(mlc::display_width("e\xcc\x81") == 1);            // e + combining acute accent
  CHECK(mlc::display_width("\xff" "a") == 2);             // a stray byte counts as one column
}

TEST_CASE("cut_to_width") {
  CHECK(mlc::cut_to_width("epoch 1/3  batch 4/10", 9) == "epoch 1/3");
  CHECK(mlc::cut_to_width("short", 40) == "short");
  CHECK(mlc::cut_to_width("", 3).empty());
  CHECK(mlc::cut_to_width("caf\xc3\xa9s", 4) == "caf\xc3\xa9");        // never inside a sequence
  CHECK(mlc::cut_to_width("a\xe6\xa8\xa1\xe5\x9e\x8b", 2) == "a");     // a wide character that does not fit
}

TEST_CASE("wrap_to_width") {
  const std::string line = "epoch 3: train loss 0.4321, validation accuracy 0.9000, validation loss 0.3000 (1.2 s)";
  SUBCASE("at ', ', later lines indented, none longer than the width") {
    CHECK(mlc::wrap_to_width(line, 40) ==
          "epoch 3: train loss 0.4321,\n"
          "  validation accuracy 0.9000,\n"
          "  validation loss 0.3000 (1.2 s)");
  }
  SUBCASE("a line that fits is unchanged") { CHECK(mlc::wrap_to_width(line, 200) == line); }
  SUBCASE("a piece wider than the line is cut") {
    CHECK(mlc::wrap_to_width("abcdefghij, xy", 6) == "abcdef\n  xy");
  }
  SUBCASE("at two spaces") { CHECK(mlc::wrap_to_width("epoch 1/3  batch 4/10  loss 0.5", 12) == "epoch 1/3\n  batch 4/10\n  loss 0.5"); }
}

TEST_CASE("TextTable") {
  SUBCASE("columns as wide as their widest cell; '>' right-aligns; no trailing spaces") {
    mlc::TextTable table({"MODEL", ">VERSION", "TARGETS"});
    table.add_row({"a-model-name-of-fifty-one-characters-xxxxxxxxxxxxxx", "1", ""});
    table.add_row({"m", "12", "prod"});
    CHECK(table.render() ==
          "MODEL                                                VERSION  TARGETS\n"
          "a-model-name-of-fifty-one-characters-xxxxxxxxxxxxxx        1\n"
          "m                                                         12  prod\n");
  }
  SUBCASE("wide characters count two columns") {
    mlc::TextTable table({"NAME", "X"});
    table.add_row({"\xe6\xa8\xa1\xe5\x9e\x8b", "1"});
    table.add_row({"abcde", "2"});
    CHECK(table.render() == "NAME   X\n\xe6\xa8\xa1\xe5\x9e\x8b   1\nabcde  2\n");
  }
  SUBCASE("a row of the wrong size") {
    mlc::TextTable table({"A", "B"});
    CHECK_THROWS_AS(table.add_row({"1"}), std::invalid_argument);
    CHECK(table.empty());
  }
}
