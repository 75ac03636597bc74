#include <doctest/doctest.h>

#include <algorithm>

#include "compute_fixtures.hpp"
#include "mlc/error.hpp"

using mlc::test::backend;
using mlc::test::TempDir;

TEST_CASE("predict runs the model on the first samples of the test split") {
  TempDir dir;
  const mlc::TrainedModel trained = mlc::test::train_model(mlc::test::wine_config(), dir);
  const nlohmann::json& data = trained.config["data"];

  SUBCASE("a limit") {
    const mlc::Predictions predictions = backend().predict(trained, data, 5);
    REQUIRE(predictions.outputs.size() == 5);
    CHECK(predictions.labels.size() == 5);
    CHECK(predictions.targets.size() == 5);
    for (size_t i = 0; i < 5; ++i) {
      const auto& row = predictions.outputs[i];
      REQUIRE(row.size() == 3);
      CHECK(predictions.labels[i] == std::max_element(row.begin(), row.end()) - row.begin());
      CHECK(predictions.targets[i] >= 0);
      CHECK(predictions.targets[i] < 3);
    }
  }
  SUBCASE("no limit, or one past the end") {
    CHECK(backend().predict(trained, data, 0).outputs.size() == 36);
    CHECK(backend().predict(trained, data, 1000).outputs.size() == 36);
  }
  SUBCASE("agrees with evaluate") {
    const mlc::Predictions predictions = backend().predict(trained, data, 0);
    int64_t correct = 0;
    for (size_t i = 0; i < predictions.labels.size(); ++i) {
      correct += predictions.labels[i] == predictions.targets[i] ? 1 : 0;
    }
    const mlc::EvalResult eval = backend().evaluate(trained, data);
    CHECK(eval.metrics.at("accuracy") == doctest::Approx(static_cast<double>(correct) / 36));
    REQUIRE(eval.data_files.size() == 1);
    CHECK(eval.data_files[0].path == mlc::test::wine_csv());
  }
}

TEST_CASE("evaluate refuses data that does not fit the model") {
  TempDir dir;
  const mlc::TrainedModel trained = mlc::test::train_model(mlc::test::wine_config(), dir);
  nlohmann::json data = trained.config["data"];

  SUBCASE("an empty test split") {
    mlc::test::write_file(dir / "three.csv", mlc::test::wine_head(3));
    data["path"] = (dir / "three.csv").string();
    data["test_fraction"] = 0.1;
    const std::string expected = (dir / "three.csv").string() + ": the test split is empty";
    CHECK_THROWS_WITH_AS(backend().evaluate(trained, data), expected.c_str(), mlc::Error);
    CHECK_THROWS_WITH_AS(backend().predict(trained, data, 0), expected.c_str(), mlc::Error);
  }
  SUBCASE("other feature columns") {
    std::string table = mlc::test::wine_head(20);
    table.replace(0, std::string("alcohol").size(), "ethanol");
    mlc::test::write_file(dir / "renamed.csv", table);
    data["path"] = (dir / "renamed.csv").string();
    try {
      backend().evaluate(trained, data);
      FAIL("evaluate did not throw");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
      CHECK(std::string(error.what())
                .rfind((dir / "renamed.csv").string() + ": feature columns (ethanol, ", 0) == 0);
    }
  }
}

TEST_CASE("evaluate and predict refuse results that are not finite") {
  // A model trained on values in [0, 1] without scaling overflows on values near FLT_MAX.
  TempDir dir;
  std::string header;
  for (int column = 0; column < 12; ++column) header += "f" + std::to_string(column) + ",";
  std::string small = header + "class\n";
  std::string huge = small;
  for (int row = 0; row < 60; ++row) {
    for (int column = 0; column < 12; ++column) {
      small += std::to_string((row * 7 + column * 3) % 10 / 10.0) + ",";
      huge += "3.4e38,";
    }
    small += std::to_string(row % 2) + "\n";
    huge += std::to_string(row % 2) + "\n";
  }
  nlohmann::json config = mlc::test::wine_config();
  config["data"]["path"] = dir.write("small.csv", small).string();
  config["data"]["scaling"] = "none";
  config["model"]["hidden_layers"] = {256};  // some unit's weights surely sum past 1: infinity
  config["training"]["epochs"] = 2;
  TempDir run_dir;
  const mlc::TrainedModel trained = mlc::test::train_model(mlc::test::with_defaults(config), run_dir);
  nlohmann::json data = trained.config["data"];
  data["path"] = dir.write("huge.csv", huge).string();
  const auto refuses = [&](const auto& call, const std::string& what) {
    try {
      call();
      FAIL("no error");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
      const std::string message = error.what();
      CHECK(message.rfind(data["path"].get<std::string>() + ": " + what, 0) == 0);
      CHECK(message.find("is not finite; the data holds values too far outside those the model "
                         "was trained on") != std::string::npos);
    }
  };
  refuses([&] { backend().evaluate(trained, data); }, "the model's loss on the test split (");
  refuses([&] { backend().predict(trained, data, 0); }, "the model's output for test sample 0 ");
}
