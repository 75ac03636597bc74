#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "mlc/suggest.hpp"

namespace {
const std::vector<std::string> kCommands = {"train", "eval",    "compare", "export", "predict",
                                            "register", "deploy", "retire", "list",  "show",
                                            "history", "rollback", "alias", "edit",  "card",
                                            "verify",  "gc",      "serve"};
}

TEST_CASE("edit_distance") {
  CHECK(mlc::edit_distance("", "") == 0);
  CHECK(mlc::edit_distance("", "abc") == 3);
  CHECK(mlc::edit_distance("abc", "") == 3);
  CHECK(mlc::edit_distance("list", "list") == 0);
  CHECK(mlc::edit_distance("lst", "list") == 1);       // an insertion
  CHECK(mlc::edit_distance("lisst", "list") == 1);     // a deletion
  CHECK(mlc::edit_distance("lust", "list") == 1);      // a substitution
  CHECK(mlc::edit_distance("lsit", "list") == 1);      // a swap of neighbours
  CHECK(mlc::edit_distance("kitten", "sitting") == 3);
  CHECK(mlc::edit_distance("lr", "learning_rate") == 11);
  CHECK(mlc::edit_distance("ab", "ba") == mlc::edit_distance("ba", "ab"));
}

TEST_CASE("nearest_name") {
  SUBCASE("within two edits") {
    CHECK(mlc::nearest_name("lst", kCommands) == "list");
    CHECK(mlc::nearest_name("deplyo", kCommands) == "deploy");
    CHECK(mlc::nearest_name("--epoch", {"--epochs", "--seed"}) == "--epochs");
    CHECK(mlc::nearest_name("optimiser", {"optimizer", "epochs"}) == "optimizer");
  }
  SUBCASE("the nearest wins, ties go to the earlier candidate") {
    CHECK(mlc::nearest_name("shw", kCommands) == "show");
    CHECK(mlc::nearest_name("ab", {"abc", "abd"}) == "abc");
  }
  SUBCASE("a unique prefix, before a name within two edits") {
    CHECK(mlc::nearest_name("hist", kCommands) == "history");  // not "list"
    CHECK(mlc::nearest_name("batch", {"batch_size", "betas"}) == "batch_size");
    CHECK(mlc::nearest_name("regi", kCommands) == "register");
    CHECK(mlc::nearest_name("reg", {"register", "retire"}) == "register");
    CHECK(mlc::nearest_name("re", {"register", "retire"}) == std::nullopt);  // which one?
  }
  SUBCASE("nothing close") {
    CHECK(mlc::nearest_name("xyzzy", kCommands) == std::nullopt);
    CHECK(mlc::nearest_name("lr", {"learning_rate", "momentum"}) == std::nullopt);
    CHECK(mlc::nearest_name("x", {"y"}) == std::nullopt);  // one edit, but all of it
    CHECK(mlc::nearest_name("", kCommands) == std::nullopt);
    CHECK(mlc::nearest_name("list", kCommands) == std::nullopt);  // itself is not a suggestion
  }
}

TEST_CASE("did_you_mean") {
  CHECK(mlc::did_you_mean("lst", kCommands) == "; did you mean 'list'?");
  CHECK(mlc::did_you_mean("xyzzy", kCommands).empty());
}
