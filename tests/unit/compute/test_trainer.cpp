#include <doctest/doctest.h>

#include <vector>

#include "compute_fixtures.hpp"
#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

using mlc::test::backend;
using mlc::test::TempDir;
using mlc::test::wine_config;

TEST_CASE("train learns the wine table and reports what it did") {
  TempDir dir;
  std::vector<int> reported_epochs;
  const mlc::TrainResult result =
      backend().train({wine_config(), dir.path(),
                       [&](const mlc::EpochMetrics& m) { reported_epochs.push_back(m.epoch); }});

  CHECK(result.checkpoint == dir / "checkpoint.pt");
  CHECK(std::filesystem::is_regular_file(result.checkpoint));
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.pt.tmp"));
  CHECK(result.train_samples == 128);
  CHECK(result.validation_samples == 14);
  CHECK(result.epochs.size() == 20);
  CHECK(reported_epochs.size() == 20);
  CHECK(reported_epochs.front() == 1);
  CHECK(result.epochs.back().train_loss < result.epochs.front().train_loss);
  CHECK(result.epochs.back().validation_accuracy >= 0.8);
  CHECK(result.train_seconds > 0);
  CHECK(result.samples_per_second > 0);
  REQUIRE(result.data_files.size() == 1);
  CHECK(result.data_files[0].role == "path");

  const nlohmann::json& info = result.model_info;
  CHECK(info["class_names"] == nlohmann::json({"0", "1", "2"}));
  CHECK(info["input_shape"] == nlohmann::json({13}));
  CHECK(info["feature_names"].size() == 13);
  CHECK(info["feature_names"][0] == "alcohol");
  const nlohmann::json& step = info["preprocessing"]["steps"][0];
  CHECK(step["op"] == "standardize");
  CHECK(step["scope"] == "per_feature");
  CHECK(step["mean"].size() == 13);
  CHECK(info["preprocessing"]["applied_by"] == "model");
  CHECK_NOTHROW(
      mlc::validate_json(info, mlc::embedded_schema("model-info.schema.json"), "model_info"));

  const mlc::EvalResult eval = backend().evaluate(
      {wine_config(), result.model_info, result.checkpoint}, wine_config()["data"]);
  CHECK(eval.samples == 36);
  CHECK(eval.accuracy >= 0.8);
  CHECK(eval.loss > 0);
}

TEST_CASE("train with the same seed gives the same losses") {
  TempDir first_dir;
  TempDir second_dir;
  const auto first = backend().train({wine_config(), first_dir.path(), {}});
  const auto second = backend().train({wine_config(), second_dir.path(), {}});
  REQUIRE(first.epochs.size() == second.epochs.size());
  for (size_t i = 0; i < first.epochs.size(); ++i) {
    CHECK(first.epochs[i].train_loss == second.epochs[i].train_loss);
    CHECK(first.epochs[i].validation_loss == second.epochs[i].validation_loss);
  }

  SUBCASE("and another seed other losses") {
    nlohmann::json config = wine_config();
    config["training"]["seed"] = 7;
    TempDir other_dir;
    const auto other = backend().train({config, other_dir.path(), {}});
    CHECK(other.epochs[0].train_loss != first.epochs[0].train_loss);
  }
}

TEST_CASE("train with sgd, dropout and no validation split") {
  nlohmann::json config = wine_config();
  config["training"]["optimizer"] = {
      {"name", "sgd"}, {"learning_rate", 0.05}, {"weight_decay", 0.0001}, {"momentum", 0.9}};
  config["model"]["dropout"] = 0.2;
  config["model"]["activation"] = "tanh";
  config["data"]["validation_fraction"] = 0.0;
  TempDir dir;
  const auto result = backend().train({config, dir.path(), {}});
  CHECK(result.validation_samples == 0);
  CHECK(result.epochs.back().validation_loss == 0);
  CHECK(result.epochs.back().validation_accuracy == 0);
  const auto eval =
      backend().evaluate({config, result.model_info, result.checkpoint}, config["data"]);
  CHECK(eval.accuracy >= 0.8);
}

TEST_CASE("train refuses an empty training split") {
  nlohmann::json config = wine_config();
  config["data"]["test_fraction"] = 1.0;
  TempDir dir;
  REQUIRE_THROWS_WITH_AS(
      backend().train({config, dir.path(), {}}),
      (mlc::test::wine_csv() +
       ": the training split is empty (178 test and 0 validation samples leave none to train on)")
          .c_str(),
      mlc::Error);
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.pt"));
}

TEST_CASE("train passes data errors through unchanged") {
  nlohmann::json config = wine_config();
  config["data"]["path"] = "/nonexistent/wine.csv";
  TempDir dir;
  try {
    backend().train({config, dir.path(), {}});
    FAIL("train did not throw");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::not_found);
    CHECK(std::string(error.what()).find("/nonexistent/wine.csv") != std::string::npos);
  }
}

TEST_CASE("train on 2000 Fashion-MNIST images beats chance after one epoch") {
  if (!mlc::test::have_fashion_mnist()) {
    MESSAGE("skipped: no Fashion-MNIST in " MLC_FASHION_MNIST_DIR);
    return;
  }
  TempDir dir;
  const nlohmann::json config = mlc::test::fashion_config();
  const mlc::TrainResult result = backend().train({config, dir.path(), {}});
  CHECK(result.train_samples == 1800);
  CHECK(result.model_info["input_shape"] == nlohmann::json({28, 28}));
  const nlohmann::json& step = result.model_info["preprocessing"]["steps"][0];
  CHECK(step["scope"] == "global");
  CHECK(step["mean"].size() == 1);
  CHECK(step["mean"][0].get<double>() > 50);  // raw pixels: Fashion-MNIST's mean is ~73
  CHECK_FALSE(result.model_info.contains("feature_names"));
  REQUIRE(result.data_files.size() == 4);
  CHECK_NOTHROW(mlc::validate_json(result.model_info,
                                   mlc::embedded_schema("model-info.schema.json"), "model_info"));

  const auto eval =
      backend().evaluate({config, result.model_info, result.checkpoint}, config["data"]);
  CHECK(eval.samples == 500);
  CHECK(eval.accuracy > 0.5);
}

TEST_CASE("train translates libtorch's errors into one-line internal errors") {
  nlohmann::json config = wine_config();
  config["model"]["hidden_layers"] = {-1};  // the schema forbids it; libtorch refuses it
  TempDir dir;
  try {
    backend().train({config, dir.path(), {}});
    FAIL("train did not throw");
  } catch (const mlc::Error& error) {
    const std::string message = error.what();
    CHECK(error.kind() == mlc::ErrorKind::internal);
    CHECK(message.rfind("libtorch: ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("train refuses a batch size of 0") {
  nlohmann::json config = wine_config();
  config["training"]["batch_size"] = 0;
  TempDir dir;
  CHECK_THROWS_WITH_AS(backend().train({config, dir.path(), {}}),
                       "training: epochs and batch_size must be at least 1, found 20 and 0",
                       mlc::Error);
}
