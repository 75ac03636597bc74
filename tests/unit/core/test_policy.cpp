#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "mlc/catalog.hpp"
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
        (file + ": targets.production: unknown key 'requires_deploy_to'; did you mean 'requires_deployed_to'?").c_str(),
        Error);
  }
  SUBCASE("a metric rule that is not METRIC OP NUMBER") {
    CHECK_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(temp, R"({"targets": {"p": {"requires_metrics": ["accuracy => 1"]}}})")),
        doctest::Contains((file + ": targets.p.requires_metrics[0]:").c_str()), Error);
  }
  SUBCASE("not JSON") {
    CHECK_THROWS_WITH_AS(mlc::load_policy(home_with_policy(temp, "{\"targets\": ")),
                         doctest::Contains((file + ":1:13: invalid JSON").c_str()), Error);
  }
  SUBCASE("a second \"targets\", which would turn every protection off") {
    REQUIRE_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(
            temp, R"({"targets": {"production": {"requires_deployed_to": ["staging"]}},
                      "targets": {}})")),
        (file + R"(: targets: duplicate key "targets")").c_str(), Error);
  }
  SUBCASE("a rule given twice for one target") {
    REQUIRE_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(
            temp, R"({"targets": {"p": {"requires_metrics": ["accuracy>=0.9"],
                                         "requires_metrics": []}}})")),
        (file + R"(: targets.p.requires_metrics: duplicate key "requires_metrics")").c_str(),
        Error);
  }
  SUBCASE("nesting 70,000 deep") {
    REQUIRE_THROWS_WITH_AS(
        mlc::load_policy(home_with_policy(temp, std::string(70000, '[') + std::string(70000, ']'))),
        doctest::Contains(": nested deeper than 64 levels of arrays and objects"), Error);
  }
  SUBCASE("a policy.json that is not a file") {
    std::filesystem::create_directories(temp.home().root / "policy.json");
    REQUIRE_THROWS_WITH_AS(mlc::load_policy(temp.home()),
                           ("cannot read " + file + ": Is a directory").c_str(), Error);
    try {
      mlc::load_policy(temp.home());
    } catch (const Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    }
  }
}

TEST_CASE("parse_policy: metric rules") {
  auto rules_of = [](const std::string& rule) {
    return mlc::parse_policy(R"({"targets": {"p": {"requires_metrics": [")" + rule + R"("]}}})",
                             "policy.json")
        .targets.at("p")
        .requires_metrics;
  };
  SUBCASE("spaces, signs and exponents") {
    const auto rules = rules_of(" loss <= +.5e-1 ");
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].expression == " loss <= +.5e-1 ");
    CHECK(rules[0].metric == "loss");
    CHECK(rules[0].comparison == "<=");
    CHECK(rules[0].threshold == doctest::Approx(0.05));
    CHECK(rules_of("r2==-1")[0].threshold == -1);
  }
  SUBCASE("per-class metrics, in brackets or after a dot, read as NAME[CLASS]") {
    CHECK(rules_of("recall[T-shirt/top] >= 0.8")[0].metric == "recall[T-shirt/top]");
    CHECK(rules_of("f1[Ankle boot]>0.5")[0].metric == "f1[Ankle boot]");
    CHECK(rules_of("recall.Shirt>=0.8")[0].metric == "recall[Shirt]");
    CHECK_THROWS_WITH_AS(rules_of("recall[]>=0.8"), doctest::Contains("requires_metrics[0]"), Error);
  }
  SUBCASE("a 30,000-character metric name is refused, not a stack overflow") {
    REQUIRE_THROWS_WITH_AS(
        rules_of(std::string(30000, 'a') + ">=1"),
        doctest::Contains("policy.json: targets.p.requires_metrics[0]: must be a string of at "
                          "most 256 characters, got \"aaaa"),
        Error);
  }
  SUBCASE("a threshold beyond a double") {
    REQUIRE_THROWS_WITH_AS(rules_of("accuracy>=1e999"),
                           "policy.json: targets.p.requires_metrics[0]: 'accuracy>=1e999': "
                           "'1e999' is not a number",
                           Error);
  }
  SUBCASE("policy.file is the origin") {
    CHECK(mlc::parse_policy(R"({"targets": {}})", "from-a-fuzzer").file == "from-a-fuzzer");
  }
}

TEST_CASE("metric_passes compares as written") {
  CHECK(mlc::metric_passes(0.9, ">=", 0.9));
  CHECK_FALSE(mlc::metric_passes(0.9, ">", 0.9));
  CHECK(mlc::metric_passes(0.1, "<", 0.2));
  CHECK(mlc::metric_passes(0.2, "==", 0.2));
}

TEST_CASE("parse_policy: requires_better_than reads relative rules") {
  auto rules_of = [](const std::string& rule) {
    return mlc::parse_policy(R"({"targets": {"p": {"requires_better_than": [")" + rule + R"("]}}})",
                             "policy.json")
        .targets.at("p")
        .requires_better_than;
  };
  const auto rules = rules_of("accuracy >= @current-0.005");
  REQUIRE(rules.size() == 1);
  CHECK(rules[0].metric == "accuracy");
  CHECK(rules[0].comparison == ">=");
  CHECK(rules[0].baseline_target == "current");
  CHECK(rules[0].threshold == doctest::Approx(-0.005));
  CHECK(rules_of("recall[Shirt]>@staging")[0].baseline_target == "staging");
  CHECK(rules_of("loss<@current+1e-2")[0].threshold == doctest::Approx(0.01));
  SUBCASE("an absolute threshold there, or a relative one in requires_metrics, is refused") {
    CHECK_THROWS_WITH_AS(rules_of("accuracy>=0.9"),
                         doctest::Contains("policy.json: targets.p.requires_better_than[0]:"), Error);
    CHECK_THROWS_WITH_AS(
        mlc::parse_policy(R"({"targets": {"p": {"requires_metrics": ["accuracy>=@current"]}}})", "policy.json"),
        doctest::Contains("policy.json: targets.p.requires_metrics[0]:"), Error);
  }
  SUBCASE("a target name check_name refuses") {
    CHECK_THROWS_WITH_AS(rules_of("accuracy>=@.x"),
                         doctest::Contains("policy.json: targets.p.requires_better_than[0]:"), Error);
  }
}

namespace {

const mlc::TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

mlc::VersionRecord create_version(mlc::Catalog& catalog) {
  mlc::NewVersion version;
  version.model = "m";
  version.config = {{"model", {{"architecture", "mlp"}}}};
  version.model_info = {{"class_names", {"a", "b"}}};
  version.lineage = {{"mlc_version", "test"}};
  version.checkpoint_sha256 = std::string(64, 'a');
  return catalog.in_transaction([&] { return catalog.create_version(version, kNote); });
}

// An evaluation by mlc eval of `samples` samples whose data fingerprint is 64 times `fingerprint`,
// on the version's own test split or (on_test_split false) on data named with --data.
void evaluate(mlc::Catalog& catalog, const mlc::VersionRecord& version, double accuracy,
              char fingerprint = 'd', int64_t samples = 50, bool on_test_split = true,
              const std::string& origin = "eval") {
  mlc::EvaluationRecord evaluation;
  evaluation.at = mlc::utc_now();
  evaluation.origin = origin;
  evaluation.samples = samples;
  evaluation.metrics = {{"accuracy", accuracy}, {"loss", 0.5}};
  evaluation.gates = nlohmann::json::array();
  if (origin == "eval") {
    evaluation.data_files = {{"path", "/data/" + std::string(1, fingerprint), std::string(64, fingerprint)}};
    evaluation.data_fingerprint = std::string(64, fingerprint);
    evaluation.on_test_split = on_test_split;
  }
  catalog.in_transaction([&] { catalog.record_evaluation(version, evaluation, kNote); });
}

}  // namespace

TEST_CASE("check_policy: requires_better_than compares evaluations on the same data") {
  mlc::test::TempHome temp;
  mlc::Catalog catalog(temp.home(), mlc::Catalog::Mode::create);
  const mlc::Policy policy = mlc::parse_policy(
      R"({"targets": {"production": {"requires_better_than": ["accuracy>=@current-0.01"]}}})",
      "policy.json");
  const auto v1 = create_version(catalog);
  const auto v2 = create_version(catalog);
  const auto check = [&] { mlc::check_policy(policy, "production", v2, catalog); };
  const std::string prefix =
      "policy.json: target 'production' refuses m:2: rule requires_better_than[0] "
      "'accuracy>=@current-0.01': ";

  SUBCASE("no version on the target: nothing to beat") { CHECK_NOTHROW(check()); }
  SUBCASE("the target holds this version: nothing to beat") {
    catalog.in_transaction([&] {
      catalog.set_deployment(v2.model_id, "production", v2.id, mlc::TargetChange::Kind::deploy, kNote);
    });
    CHECK_NOTHROW(check());
  }
  SUBCASE("with a version on the target") {
    catalog.in_transaction([&] {
      catalog.set_deployment(v1.model_id, "production", v1.id, mlc::TargetChange::Kind::deploy, kNote);
    });
    const std::string run =
        "run mlc eval m:2 --gate 'accuracy>=@production-0.01' (it evaluates production's m:1 on the "
        "same data too; when their test splits differ, evaluate on one file with --data FILE and list "
        "its data fingerprint in targets.production.evaluation_data)";
    SUBCASE("no evaluation of the candidate") {
      REQUIRE_THROWS_WITH_AS(
          check(), (prefix + "it has no recorded evaluation (run mlc eval); to compare with production's m:1: " + run).c_str(),
          Error);
    }
    SUBCASE("the target's version evaluated on other data only: never compared") {
      evaluate(catalog, v1, 0.5, 'e');
      evaluate(catalog, v1, 0.5, 'd', 60);  // the same file, other rows
      evaluate(catalog, v2, 0.9, 'd');
      CHECK_THROWS_WITH_AS(check(), doctest::Contains("production's m:1 has no evaluation on the data of its latest counted evaluation"),
                           Error);
      CHECK_THROWS_WITH_AS(check(), doctest::Contains(run.c_str()), Error);
    }
    SUBCASE("worse by more than the margin") {
      evaluate(catalog, v1, 0.9);
      evaluate(catalog, v1, 0.1, 'e');  // newer, on other data: not the one compared
      evaluate(catalog, v2, 0.85);
      REQUIRE_THROWS_WITH_AS(
          check(), (prefix + "accuracy = 0.85 vs production's m:1 0.9 (-0.05), needs >= @production-0.01").c_str(),
          Error);
    }
    SUBCASE("within the margin, or better") {
      evaluate(catalog, v1, 0.9);
      evaluate(catalog, v2, 0.895);
      CHECK_NOTHROW(check());
      evaluate(catalog, v2, 0.95);
      CHECK_NOTHROW(check());
    }
    SUBCASE("the candidate's latest evaluation counts, not an older better one") {
      evaluate(catalog, v1, 0.9);
      evaluate(catalog, v2, 0.95);
      evaluate(catalog, v2, 0.5);
      CHECK_THROWS_AS(check(), Error);
    }
  }
}

TEST_CASE("check_policy: requires_metrics counts only evaluations mlc measured on trusted data") {
  mlc::test::TempHome temp;
  mlc::Catalog catalog(temp.home(), mlc::Catalog::Mode::create);
  const std::string named(64, 'f');
  const mlc::Policy policy = mlc::parse_policy(
      R"({"targets": {"production": {"requires_metrics": ["accuracy>=0.8"], "evaluation_data": [")" +
          named + R"("]}}})",
      "policy.json");
  const auto version = create_version(catalog);
  const auto check = [&] { mlc::check_policy(policy, "production", version, catalog); };
  const std::string prefix = "policy.json: target 'production' refuses m:1: rule requires_metrics[0] 'accuracy>=0.8': ";

  SUBCASE("its own test split counts") {
    evaluate(catalog, version, 0.9);
    CHECK_NOTHROW(check());
  }
  SUBCASE("a manifest's self-reported metrics never count") {
    evaluate(catalog, version, 0.99, 'd', 0, false, "manifest");
    REQUIRE_THROWS_WITH_AS(check(), (prefix + "its metrics are self-reported by its manifest, which a policy never counts; only evaluations mlc measured on its test split count").c_str(), Error);
  }
  SUBCASE("five easy rows named with --data do not count") {
    evaluate(catalog, version, 1.0, 'e', 5, false);
    CHECK_THROWS_WITH_AS(check(), doctest::Contains("its evaluations were on other data than its test split (latest: 5 samples, data fingerprint eeee"), Error);
    CHECK_THROWS_WITH_AS(check(), doctest::Contains("targets.production.evaluation_data"), Error);
  }
  SUBCASE("data the policy names by fingerprint counts") {
    evaluate(catalog, version, 0.85, 'f', 500, false);
    CHECK_NOTHROW(check());
  }
  SUBCASE("the newest counted evaluation decides, whatever came after it on other data") {
    evaluate(catalog, version, 0.7);
    evaluate(catalog, version, 1.0, 'e', 5, false);
    REQUIRE_THROWS_WITH_AS(check(), doctest::Contains("accuracy is 0.7 in its latest counted evaluation"), Error);
  }
}

TEST_CASE("parse_policy: evaluation_data holds sha256 fingerprints") {
  CHECK_THROWS_WITH_AS(
      mlc::parse_policy(R"({"targets": {"p": {"evaluation_data": ["abc"]}}})", "policy.json"),
      doctest::Contains("evaluation_data"), Error);
}

TEST_CASE("check_policy: min_samples and evaluation_data_only") {
  mlc::test::TempHome temp;
  mlc::Catalog catalog(temp.home(), mlc::Catalog::Mode::create);
  const std::string named(64, 'f');
  const auto version = create_version(catalog);
  auto check = [&](const std::string& rules) {
    const mlc::Policy policy = mlc::parse_policy(
        R"({"targets": {"production": {"requires_metrics": ["accuracy>=0.8"], )" + rules + "}}}", "policy.json");
    mlc::check_policy(policy, "production", version, catalog);
  };
  SUBCASE("a test split of five rows does not count under min_samples") {
    evaluate(catalog, version, 1.0, 'd', 5);
    CHECK_NOTHROW(check(R"("min_samples": 5)"));
    CHECK_THROWS_WITH_AS(check(R"("min_samples": 100)"),
                         doctest::Contains("its latest evaluation on data the policy counts has 5 samples, fewer than "
                                           "targets.production.min_samples (100)"),
                         Error);
    evaluate(catalog, version, 0.9, 'f', 500, false);
    CHECK_NOTHROW(check(R"("min_samples": 100, "evaluation_data": [")" + named + R"("])"));
  }
  SUBCASE("evaluation_data_only: its own test split does not count, the named data does") {
    evaluate(catalog, version, 0.99);
    const std::string only = R"("evaluation_data_only": true, "evaluation_data": [")" + named + R"("])";
    CHECK_THROWS_WITH_AS(check(only), doctest::Contains("it has no evaluation on the data targets.production.evaluation_data names"), Error);
    evaluate(catalog, version, 0.7, 'f', 500, false);
    CHECK_THROWS_WITH_AS(check(only), doctest::Contains("accuracy is 0.7 in its latest counted evaluation"), Error);
    evaluate(catalog, version, 0.95);  // newer, its own split: still not the one counted
    CHECK_THROWS_WITH_AS(check(only), doctest::Contains("accuracy is 0.7"), Error);
  }
}
