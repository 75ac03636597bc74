#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "mlc/error.hpp"
#include "mlc/gate.hpp"
#include "mlc/operations.hpp"

using mlc::Error;
using mlc::ErrorKind;
using mlc::parse_gate_terms;

TEST_CASE("parse_gate_terms: METRIC OP NUMBER") {
  const auto terms = parse_gate_terms("accuracy>=0.85", "--gate", ErrorKind::usage);
  CHECK(terms.metric == "accuracy");
  CHECK(terms.comparison == ">=");
  CHECK(terms.threshold == 0.85);

  SUBCASE("white space around each term") {
    const auto spaced = parse_gate_terms(" \tval_loss2 <  -1.5e-3\n", "--gate", ErrorKind::usage);
    CHECK(spaced.metric == "val_loss2");
    CHECK(spaced.comparison == "<");
    CHECK(spaced.threshold == -1.5e-3);
  }
  SUBCASE("every comparison, the two-character ones first") {
    for (const char* op : {">=", "<=", "==", ">", "<"}) {
      CHECK(parse_gate_terms(std::string("r2") + op + "+1", "--gate", ErrorKind::usage).comparison ==
            op);
    }
  }
}

TEST_CASE("parse_gate_terms: anything else names the expression") {
  const auto rejects = [](const std::string& expression, const std::string& message) {
    REQUIRE_THROWS_WITH_AS(parse_gate_terms(expression, "--gate", ErrorKind::usage),
                           message.c_str(), Error);
  };
  const auto malformed = [&](const std::string& expression) {
    rejects(expression,
            "--gate '" + expression + "': expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'");
  };
  malformed("");
  malformed("accuracy");
  malformed("accuracy>=");
  malformed(">=0.5");
  malformed("1accuracy>=0.5");
  malformed("accuracy=>0.5");
  malformed("accuracy>=0.5 extra");
  malformed("accuracy >= inf");
  malformed("acc-uracy>=1");
  rejects("accuracy>=1.2.3", "--gate 'accuracy>=1.2.3': '1.2.3' is not a number");
  rejects("accuracy>=1e999", "--gate 'accuracy>=1e999': '1e999' is not a number");
  rejects("loss<-", "--gate 'loss<-': '-' is not a number");

  SUBCASE("the caller's context and kind") {
    try {
      parse_gate_terms("x", "requires_metrics[2]", ErrorKind::invalid_input);
      FAIL("no error");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::invalid_input);
      CHECK(std::string(error.what()) ==
            "requires_metrics[2] 'x': expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'");
    }
  }
}

TEST_CASE("parse_gate_terms: a 30,000-character name or number is an error, not a stack overflow") {
  const std::string name(30000, 'a');
  const auto terms = parse_gate_terms(name + ">=1", "--gate", ErrorKind::usage);
  CHECK(terms.metric == name);
  const std::string digits(300000, '1');
  CHECK_THROWS_AS(parse_gate_terms("a>=" + digits + "x", "--gate", ErrorKind::usage), Error);
  CHECK_THROWS_AS(parse_gate_terms(std::string(300000, ' '), "--gate", ErrorKind::usage), Error);
  CHECK_THROWS_AS(mlc::parse_gate(name + ">=1"), Error);  // unknown metric, said in one line
}

TEST_CASE("parse_gate: eval's metrics only") {
  CHECK(mlc::parse_gate("r2>0.5").metric == "r2");
  REQUIRE_THROWS_WITH_AS(mlc::parse_gate("f1>=0.5"),
                         "--gate 'f1>=0.5': unknown metric 'f1' (metrics: accuracy, loss, rmse, "
                         "mae, r2)",
                         Error);
}

TEST_CASE("gate_passes") {
  CHECK(mlc::gate_passes(0.9, ">=", 0.9));
  CHECK_FALSE(mlc::gate_passes(0.9, ">", 0.9));
  CHECK(mlc::gate_passes(0.1, "<", 0.2));
  CHECK(mlc::gate_passes(0.2, "<=", 0.2));
  CHECK(mlc::gate_passes(1, "==", 1));
  CHECK_FALSE(mlc::gate_passes(std::nan(""), ">=", 0));
}
