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

TEST_CASE("parse_gate_terms: per-class metrics as NAME[CLASS] or NAME.CLASS") {
  const auto metric = [](const std::string& expression) {
    return parse_gate_terms(expression, "--gate", ErrorKind::usage).metric;
  };
  CHECK(metric("recall[Shirt]>=0.5") == "recall[Shirt]");
  CHECK(metric("recall.Shirt>=0.5") == "recall[Shirt]");
  CHECK(metric(" f1[T-shirt/top] < 0.9") == "f1[T-shirt/top]");
  CHECK(metric("f1.T-shirt/top<0.9") == "f1[T-shirt/top]");
  CHECK(metric("precision[Ankle boot]==1") == "precision[Ankle boot]");
  CHECK(metric("support[ a.b ]>3") == "support[ a.b ]");  // brackets keep what they hold
  CHECK(metric("recall.0>=0.5") == "recall[0]");
  const auto terms = parse_gate_terms("recall.Shirt >= 0.25", "--gate", ErrorKind::usage);
  CHECK(terms.comparison == ">=");
  CHECK(terms.threshold == 0.25);
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
  malformed("recall[>=0.5");
  malformed("recall[]>=0.5");
  malformed("recall.>=0.5");
  malformed("recall[Shirt>=0.5");
  malformed("recall[Shirt]x>=0.5");
  malformed("recall.Ankle boot>=0.5");
  malformed("recall[a]]>=0.5");
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
  CHECK(parse_gate_terms("recall[" + name + "]>=1", "--gate", ErrorKind::usage).metric == "recall[" + name + "]");
  CHECK(parse_gate_terms("recall." + name + ">=1", "--gate", ErrorKind::usage).metric == "recall[" + name + "]");
  CHECK_THROWS_AS(parse_gate_terms("recall[" + name + ">=1", "--gate", ErrorKind::usage), Error);
}

TEST_CASE("parse_gate_terms: a relative threshold, @TARGET[+-NUMBER]") {
  const auto parse = [](const std::string& expression) {
    return parse_gate_terms(expression, "--gate", ErrorKind::usage);
  };
  const auto absolute = parse("accuracy>=0.85");
  CHECK_FALSE(absolute.baseline_target.has_value());

  const auto plain = parse("f1_macro>@production");
  CHECK(plain.metric == "f1_macro");
  CHECK(plain.comparison == ">");
  CHECK(plain.baseline_target == "production");
  CHECK(plain.threshold == 0);

  const auto below = parse(" accuracy >= @production-0.005 ");
  CHECK(below.baseline_target == "production");
  CHECK(below.threshold == -0.005);
  CHECK(parse("loss<=@staging+1e-2").threshold == 0.01);
  CHECK(parse("loss<=@staging+1e-2").baseline_target == "staging");
  CHECK(parse("recall[Shirt]>=@prod.eu_2-.5").baseline_target == "prod.eu_2");
  CHECK(parse("recall[Shirt]>=@prod.eu_2-.5").metric == "recall[Shirt]");
  CHECK(parse("recall[Shirt]>=@prod.eu_2-.5").threshold == -0.5);

  SUBCASE("a '-' starts the margin where a number follows it to the end") {
    CHECK(parse("accuracy>=@eu-1").baseline_target == "eu");
    CHECK(parse("accuracy>=@eu-1").threshold == -1);
    CHECK(parse("accuracy>=@eu-1-0").baseline_target == "eu-1");
    CHECK(parse("accuracy>=@eu-1+0").baseline_target == "eu-1");
    CHECK(parse("accuracy>=@eu-west").baseline_target == "eu-west");
    CHECK(parse("accuracy>=@eu-1x").baseline_target == "eu-1x");
    CHECK(parse("accuracy>=@production-1e-3").baseline_target == "production");
    CHECK(parse("accuracy>=@production-1e-3").threshold == -1e-3);
  }
  SUBCASE("malformed relative thresholds name the expression") {
    const auto rejects = [&](const std::string& expression, const std::string& message) {
      REQUIRE_THROWS_WITH_AS(parse(expression), ("--gate '" + expression + "': " + message).c_str(),
                             Error);
    };
    const std::string example = ", e.g. 'accuracy>=@production-0.005'";
    rejects("accuracy>=@", "'@' must be followed by a target name" + example);
    rejects("accuracy>=@+1", "'@' must be followed by a target name" + example);
    rejects("accuracy>=@ production", "'@' must be followed by a target name" + example);
    rejects("accuracy>=@.hidden", "target '.hidden' must not start with '.' (such names are mlc's "
                                  "own bookkeeping)" + example);
    rejects("accuracy>=@prod*2", "after '@prod' expected nothing or +NUMBER or -NUMBER" + example);
    rejects("accuracy>=@prod - 1", "after '@prod' expected nothing or +NUMBER or -NUMBER" + example);
    rejects("accuracy>=@prod+", "after '@prod' expected nothing or +NUMBER or -NUMBER" + example);
    rejects("accuracy>=@prod+-1", "after '@prod' expected nothing or +NUMBER or -NUMBER" + example);
    rejects("accuracy>=@prod@x", "after '@prod' expected nothing or +NUMBER or -NUMBER" + example);
    rejects("accuracy>=@prod+1e999", "'+1e999' is not a number");
    rejects("@prod>=0.5", "expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'");
    rejects("accuracy@prod", "expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'");
  }
  SUBCASE("any length: a long name is refused after 129 characters, a long margin in one pass") {
    CHECK(parse("a>=@" + std::string(128, 't')).baseline_target == std::string(128, 't'));
    CHECK_THROWS_WITH_AS(parse("a>=@" + std::string(300000, 't')),
                         doctest::Contains("is longer than 128 characters"), Error);
    std::string dashes = "a>=@t";
    for (int i = 0; i < 100000; ++i) dashes += "-1";
    CHECK_THROWS_WITH_AS(parse(dashes + "x"), doctest::Contains("is longer than 128 characters"), Error);
    const auto long_margin = parse("a>=@t-0." + std::string(300000, '0'));
    CHECK(long_margin.baseline_target == "t");
    CHECK(long_margin.threshold == 0);
  }
}

TEST_CASE("parse_gate: relative gates keep their target") {
  const mlc::Gate gate = mlc::parse_gate("recall.Shirt>=@production-0.01");
  CHECK(gate.metric == "recall[Shirt]");
  CHECK(gate.baseline_target == "production");
  CHECK(gate.threshold == -0.01);
  CHECK_THROWS_AS(mlc::parse_gate("nonsense>=@production"), Error);
}

TEST_CASE("parse_gate: eval's metrics only") {
  for (const char* known : {"r2>0.5", "f1_macro>=0.8", "f1_weighted>=0.8", "ece<0.1", "top5_accuracy>0.9",
                            "top12_accuracy>0.9", "residual_p95<3", "residual_p05>-3", "recall[Shirt]>=0.5",
                            "f1.Shirt>=0.5", "precision[T-shirt/top]>0", "support[Bag]>=10"}) {
    CAPTURE(known);
    CHECK_NOTHROW(mlc::parse_gate(known));
  }
  CHECK(mlc::parse_gate("recall.Shirt>=0.5").metric == "recall[Shirt]");
  const std::string metrics =
      "(metrics: accuracy, loss, f1_macro, f1_weighted, ece, topK_accuracy, precision[CLASS], "
      "recall[CLASS], f1[CLASS], support[CLASS], rmse, mae, r2, residual_p05, residual_p25, "
      "residual_p50, residual_p75, residual_p95)";
  REQUIRE_THROWS_WITH_AS(mlc::parse_gate("f1>=0.5"), ("--gate 'f1>=0.5': unknown metric 'f1' " + metrics).c_str(),
                         Error);
  for (const char* unknown : {"topk_accuracy>0", "top_accuracy>0", "accuracy[Shirt]>0", "residual_p10<1"}) {
    CAPTURE(unknown);
    CHECK_THROWS_AS(mlc::parse_gate(unknown), Error);
  }
}

TEST_CASE("gate_passes") {
  CHECK(mlc::gate_passes(0.9, ">=", 0.9));
  CHECK_FALSE(mlc::gate_passes(0.9, ">", 0.9));
  CHECK(mlc::gate_passes(0.1, "<", 0.2));
  CHECK(mlc::gate_passes(0.2, "<=", 0.2));
  CHECK(mlc::gate_passes(1, "==", 1));
  CHECK_FALSE(mlc::gate_passes(std::nan(""), ">=", 0));
}
