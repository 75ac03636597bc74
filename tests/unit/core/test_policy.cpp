#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/policy.hpp"
#include "temp_home.hpp"

using mlc::Error;

namespace {

mlc::Home home_with_policy(const mlc::test::TempHome& temp, const std::string& text) {
  temp.write("home/policy.json", text);
  return temp.home();
}

}  // namespace

TEST_CASE("load_policy: no file, no rules") {
  mlc::test::TempHome temp;
  CHECK(mlc::load_policy(temp.home()).targets.empty());
}

TEST_CASE("load_policy: reads the rules of each target") {
  mlc::test::TempHome temp;
  const auto policy = mlc::load_policy(home_with_policy(
      temp, R"({"targets": {"production": {"requires_deployed_to": ["staging"],
                                             "requires_metrics": ["accuracy >= 0.9", "loss<0.5"]}}})"));
  const auto& production = policy.targets.at("production");
  CHECK(production.requires_deployed_to == std::vector<std::string>{"staging"});
  REQUIRE(production.requires_metrics.size() == 2);
  CHECK(production.requires_metrics[0].metric == "accuracy");
  CHECK(production.requires_metrics[0].comparison == ">=");
  CHECK(production.requires_metrics[0].threshold == doctest::Approx(0.9));
  CHECK(production.requires_metrics[1].comparison == "<");
}

TEST_CASE("load_policy: errors name the file and the key") {
  mlc::test::TempHome temp;
  const std::string file = (temp.home().root / "policy.json").string();
  SUBCASE("a misspelt rule") {
    REQUIRE_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(temp, R"({"targets": {"production": {"requires_deploy_to": []}}})")),
        (file + ": targets.production: unknown key 'requires_deploy_to'").c_str(), Error);
  }
  SUBCASE("a metric rule that is not METRIC OP NUMBER") {
    CHECK_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(temp, R"({"targets": {"p": {"requires_metrics": ["accuracy => 1"]}}})")),
        doctest::Contains((file + ": targets.p.requires_metrics[0]:").c_str()), Error);
  }
  SUBCASE("not JSON") {
    CHECK_THROWS_WITH_AS(mlc::load_policy(home_with_policy(temp, "{\"targets\": ")),
                         doctest::Contains((file + ": invalid JSON").c_str()), Error);
  }
}

TEST_CASE("metric_passes compares as written") {
  CHECK(mlc::metric_passes(0.9, ">=", 0.9));
  CHECK_FALSE(mlc::metric_passes(0.9, ">", 0.9));
  CHECK(mlc::metric_passes(0.1, "<", 0.2));
  CHECK(mlc::metric_passes(0.2, "==", 0.2));
}
