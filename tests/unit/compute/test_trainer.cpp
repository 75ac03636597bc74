#include "torch_doctest.hpp"  // first: see why there

#include <fstream>
#include <vector>

#include "checkpoint.hpp"

#include "compute_fixtures.hpp"
#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

using mlc::test::backend;
using mlc::test::request;
using mlc::test::TempDir;
using mlc::test::wine_config;

namespace {

// Whether two trained models have exactly the same parameters and buffers.
bool same_weights(const nlohmann::json& config, const mlc::TrainResult& a,
                  const mlc::TrainResult& b) {
  const auto first = mlc::compute::load_trained_model({config, a.model_info, a.checkpoint});
  const auto second = mlc::compute::load_trained_model({config, b.model_info, b.checkpoint});
  const auto first_parameters = first->parameters();
  const auto second_parameters = second->parameters();
  if (first_parameters.size() != second_parameters.size()) return false;
  for (size_t i = 0; i < first_parameters.size(); ++i) {
    if (!torch::equal(first_parameters[i], second_parameters[i])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("train learns the wine table and reports what it did") {
  TempDir dir;
  std::vector<int> reported_epochs;
  int64_t reported_batches = 0;
  mlc::TrainRequest train = request(wine_config(), dir);
  train.on_epoch = [&](const mlc::EpochMetrics& m) { reported_epochs.push_back(m.epoch); };
  train.on_batch = [&](const mlc::BatchProgress& b) {
    reported_batches += 1;
    CHECK(b.batches == 8);
    CHECK(b.epochs == 20);
  };
  const mlc::TrainResult result = backend().train(train);

  CHECK(std::filesystem::is_regular_file(result.checkpoint));
  CHECK(std::filesystem::is_regular_file(dir / "state.pt"));
  CHECK_FALSE(std::filesystem::exists(dir / "state.pt.tmp"));
  CHECK(reported_batches == 20 * 8);
  CHECK(result.monitor == "validation_loss");
  CHECK(result.best_epoch >= 1);
  CHECK(result.best_epoch <= 20);
  CHECK_FALSE(result.stopped_early);
  CHECK(result.train_samples == 128);
  CHECK(result.validation_samples == 14);
  CHECK(result.epochs.size() == 20);
  CHECK(reported_epochs.size() == 20);
  CHECK(reported_epochs.front() == 1);
  CHECK(result.epochs.back().train_loss < result.epochs.front().train_loss);
  CHECK(result.epochs.back().validation.at("accuracy") >= 0.8);
  // The version keeps the epoch with the lowest validation loss.
  for (const auto& epoch : result.epochs) {
    CHECK(epoch.validation.at("loss") >= result.epochs[result.best_epoch - 1].validation.at("loss"));
  }
  CHECK(result.train_seconds > 0);
  CHECK(result.samples_per_second > 0);
  REQUIRE(result.data_files.size() == 1);
  CHECK(result.data_files[0].role == "path");

  const nlohmann::json& info = result.model_info;
  CHECK(info["class_names"] == nlohmann::json({"0", "1", "2"}));
  CHECK(info["input_shape"] == nlohmann::json({13}));
  CHECK(info["feature_names"].size() == 13);
  CHECK(info["feature_names"][0] == "alcohol");
  CHECK(info["task"] == "classification");
  CHECK(info["target"] == "class");
  const nlohmann::json& impute = info["preprocessing"]["steps"][0];
  CHECK(impute["op"] == "impute");
  CHECK(impute["strategy"] == "mean");
  CHECK(impute["values"].size() == 13);
  const nlohmann::json& step = info["preprocessing"]["steps"][1];
  CHECK(step["op"] == "standardize");
  CHECK(step["scope"] == "per_feature");
  CHECK(step["mean"].size() == 13);
  CHECK(info["preprocessing"]["applied_by"] == "model");
  CHECK_NOTHROW(
      mlc::validate_json(info, mlc::embedded_schema("model-info.schema.json"), "model_info"));

  const mlc::EvalResult eval = backend().evaluate(
      {wine_config(), result.model_info, result.checkpoint}, wine_config()["data"]);
  CHECK(eval.samples == 36);
  CHECK(eval.metrics.at("accuracy") >= 0.8);
  CHECK(eval.metrics.at("loss") > 0);
}

TEST_CASE("train with the same seed gives the same losses") {
  TempDir first_dir;
  TempDir second_dir;
  const auto first = backend().train(request(wine_config(), first_dir));
  const auto second = backend().train(request(wine_config(), second_dir));
  REQUIRE(first.epochs.size() == second.epochs.size());
  for (size_t i = 0; i < first.epochs.size(); ++i) {
    CHECK(first.epochs[i].train_loss == second.epochs[i].train_loss);
    CHECK(first.epochs[i].validation == second.epochs[i].validation);
  }

  SUBCASE("and another seed other losses") {
    nlohmann::json config = wine_config();
    config["training"]["seed"] = 7;
    TempDir other_dir;
    const auto other = backend().train(request(config, other_dir));
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
  config = mlc::test::with_defaults(config);
  TempDir dir;
  const auto result = backend().train(request(config, dir));
  CHECK(result.validation_samples == 0);
  CHECK(result.epochs.back().validation.empty());
  CHECK(result.best_epoch == 20);  // nothing to judge by: the last epoch
  const auto eval =
      backend().evaluate({config, result.model_info, result.checkpoint}, config["data"]);
  CHECK(eval.metrics.at("accuracy") >= 0.8);
}

TEST_CASE("train refuses an empty training split") {
  nlohmann::json config = wine_config();
  config["data"]["test_fraction"] = 1.0;
  TempDir dir;
  REQUIRE_THROWS_WITH_AS(
      backend().train(request(config, dir)),
      (mlc::test::wine_csv() +
       ": the training split is empty (178 test and 0 validation samples leave none to train on)")
          .c_str(),
      mlc::Error);
  CHECK_FALSE(std::filesystem::exists(dir / "state.pt"));
}

TEST_CASE("train passes data errors through unchanged") {
  nlohmann::json config = wine_config();
  config["data"]["path"] = "/nonexistent/wine.csv";
  TempDir dir;
  try {
    backend().train(request(config, dir));
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
  const mlc::TrainResult result = backend().train(request(config, dir));
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
  CHECK(eval.metrics.at("accuracy") > 0.5);
}

TEST_CASE("train translates libtorch's errors into one-line internal errors") {
  nlohmann::json config = wine_config();
  config["model"]["hidden_layers"] = {-1};  // the schema forbids it; libtorch refuses it
  TempDir dir;
  try {
    backend().train(request(config, dir));
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
  CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                       "training: epochs and batch_size must be at least 1, found 20 and 0",
                       mlc::Error);
}

TEST_CASE("every optimizer, a schedule and gradient clipping train the wine table") {
  const nlohmann::json optimizers[] = {
      {{"name", "sgd"}, {"learning_rate", 0.05}, {"momentum", 0.9}, {"nesterov", true}},
      {{"name", "adagrad"}, {"learning_rate", 0.05}},
      {{"name", "rmsprop"}, {"learning_rate", 0.005}, {"centered", true}},
      {{"name", "adam"}, {"learning_rate", 0.01}, {"amsgrad", true}},
      {{"name", "adamw"}, {"learning_rate", 0.01}}};
  for (const auto& optimizer : optimizers) {
    CAPTURE(optimizer.dump());
    nlohmann::json config = wine_config();
    config["training"]["optimizer"] = optimizer;
    config["training"]["schedule"] = {{"name", "cosine"}, {"warmup_steps", 4}};
    config["training"]["gradient_clip_norm"] = 1.0;
    config = mlc::test::with_defaults(config);
    TempDir dir;
    const auto result = backend().train(request(config, dir));
    CHECK(result.epochs.back().train_loss < result.epochs.front().train_loss);
    const auto eval =
        backend().evaluate({config, result.model_info, result.checkpoint}, config["data"]);
    CHECK(eval.metrics.at("accuracy") >= 0.8);
  }
}

TEST_CASE("nesterov without momentum is refused before training") {
  nlohmann::json config = wine_config();
  config["training"]["optimizer"] = {{"name", "sgd"}, {"learning_rate", 0.05}, {"nesterov", true}};
  config = mlc::test::with_defaults(config);
  TempDir dir;
  CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                       "training.optimizer.nesterov: needs momentum > 0 and dampening 0",
                       mlc::Error);
}

TEST_CASE("early stopping stops after `patience` epochs without improvement and keeps the best") {
  nlohmann::json config = wine_config();
  config["training"]["epochs"] = 200;
  // The 14 validation rows are separable: their loss falls for ever, by less and less.
  config["training"]["early_stopping"] = {
      {"metric", "validation_loss"}, {"patience", 3}, {"min_delta", 0.01}};
  config = mlc::test::with_defaults(config);
  TempDir dir;
  const auto result = backend().train(request(config, dir));
  CHECK(result.stopped_early);
  REQUIRE(result.epochs.size() < 200);
  CHECK(static_cast<int>(result.epochs.size()) == result.best_epoch + 3);
  const double best = result.epochs[result.best_epoch - 1].validation.at("loss");
  for (size_t i = result.best_epoch; i < result.epochs.size(); ++i) {
    CHECK(result.epochs[i].validation.at("loss") > best - 0.01);
  }
  // The kept weights are the best epoch's: evaluating them on the validation split's data gives
  // that epoch's loss, which the last epoch's weights would not.
  CHECK(result.checkpoint.filename() == "best.pt");
}

TEST_CASE("early stopping on a metric the task does not report is refused") {
  nlohmann::json config = wine_config();
  config["training"]["early_stopping"] = {{"metric", "validation_rmse"}, {"patience", 3}};
  config = mlc::test::with_defaults(config);
  TempDir dir;
  CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                       "training.early_stopping.metric: 'validation_rmse' is not reported for "
                       "classification (use validation_loss, validation_accuracy)",
                       mlc::Error);
}

TEST_CASE("a run stopped mid-epoch and resumed ends with the weights of an uninterrupted run") {
  nlohmann::json config = wine_config();
  config["training"]["epochs"] = 4;
  config["model"]["dropout"] = 0.3;  // uses torch's global generator: its state must resume too
  config["training"]["schedule"] = {{"name", "step"}, {"step_size", 2}, {"warmup_steps", 5}};
  config = mlc::test::with_defaults(config);

  TempDir whole_dir;
  const auto whole = backend().train(request(config, whole_dir));

  TempDir run_dir;
  std::atomic<int> stops{0};
  mlc::TrainRequest interrupted = request(config, run_dir);
  interrupted.stop_requests = &stops;
  interrupted.on_batch = [&](const mlc::BatchProgress& batch) {
    if (batch.epoch == 2 && batch.batch == 3) stops = 2;  // as if Ctrl-C was pressed twice
  };
  try {
    backend().train(interrupted);
    FAIL("train was not interrupted");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::interrupted);
    CHECK(std::string(error.what()) ==
          "training stopped in epoch 2 after batch 3 of 8; its state is saved");
  }
  mlc::TrainRequest resumed = request(config, run_dir);
  resumed.resume = true;
  const auto finished = backend().train(resumed);

  REQUIRE(finished.epochs.size() == whole.epochs.size());
  for (size_t i = 0; i < whole.epochs.size(); ++i) {
    CHECK(finished.epochs[i].train_loss == whole.epochs[i].train_loss);
    CHECK(finished.epochs[i].validation == whole.epochs[i].validation);
  }
  CHECK(finished.best_epoch == whole.best_epoch);
  CHECK(same_weights(config, finished, whole));

  SUBCASE("and a run with another seed does not (the comparison can fail)") {
    nlohmann::json other_config = config;
    other_config["training"]["seed"] = 43;
    TempDir other_dir;
    const auto other = backend().train(request(other_config, other_dir));
    CHECK_FALSE(same_weights(config, other, whole));
  }
}

TEST_CASE("a single stop request ends the run after the epoch") {
  nlohmann::json config = wine_config();
  config["training"]["epochs"] = 5;
  TempDir dir;
  std::atomic<int> stops{0};
  mlc::TrainRequest train = request(config, dir);
  train.stop_requests = &stops;
  train.on_epoch = [&](const mlc::EpochMetrics& epoch) {
    if (epoch.epoch == 2) stops = 1;
  };
  CHECK_THROWS_WITH_AS(backend().train(train),
                       "training stopped after epoch 2 of 5; its state is saved", mlc::Error);
  mlc::TrainRequest resumed = request(config, dir);
  resumed.resume = true;
  const auto result = backend().train(resumed);
  CHECK(result.epochs.size() == 5);
}

TEST_CASE("resume refuses data that changed since the run began") {
  TempDir data_dir;
  const auto copy = data_dir / "wine.csv";
  std::filesystem::copy_file(mlc::test::wine_csv(), copy);
  nlohmann::json config = wine_config();
  config["data"]["path"] = copy.string();
  TempDir dir;
  std::atomic<int> stops{1};
  mlc::TrainRequest train = request(config, dir);
  train.stop_requests = &stops;
  CHECK_THROWS_AS(backend().train(train), mlc::Error);
  {
    std::ofstream append(copy, std::ios::app);
    append << "13.0,1.5,2.3,15.0,100,2.5,2.5,0.3,1.5,5.0,1.0,3.0,1000,1\n";
  }
  mlc::TrainRequest resumed = request(config, dir);
  resumed.resume = true;
  try {
    backend().train(resumed);
    FAIL("resume did not refuse");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    CHECK(std::string(error.what()).find(copy.string() + ": changed since the run began") == 0);
  }
}

TEST_CASE("train refuses data that cannot make a model, before the first epoch") {
  TempDir data_dir;
  TempDir dir;
  nlohmann::json config = wine_config();
  SUBCASE("one class in the training split") {
    config["data"]["path"] = data_dir.write("one-class.csv", mlc::test::wine_head(40)).string();
    CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                         (config["data"]["path"].get<std::string>() +
                          ": the training split has only one class ('0'); a classifier needs at "
                          "least two")
                             .c_str(),
                         mlc::Error);
  }
  SUBCASE("one row: no test split") {
    config["data"]["path"] = data_dir.write("one-row.csv", mlc::test::wine_head(1)).string();
    CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                         (config["data"]["path"].get<std::string>() +
                          ": the test split is empty (data.test_fraction 0.2 of 1 row leaves "
                          "none); a version trained without one could never be evaluated")
                             .c_str(),
                         mlc::Error);
  }
  SUBCASE("IDX without test images") {
    std::string pixels;
    std::string labels;
    for (int i = 0; i < 20; ++i) {
      pixels += std::string(4, static_cast<char>(i));
      labels += static_cast<char>(i % 2);
    }
    const auto idx = [](uint32_t count, std::vector<uint32_t> dims, const std::string& values) {
      std::string bytes = {'\0', '\0', '\x08', static_cast<char>(dims.size() + 1)};
      dims.insert(dims.begin(), count);
      for (uint32_t dim : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((dim >> shift) & 0xff);
      }
      return bytes + values;
    };
    config["data"] = {
        {"format", "idx"},
        {"train_images", data_dir.write("train-images", idx(20, {2, 2}, pixels)).string()},
        {"train_labels", data_dir.write("train-labels", idx(20, {}, labels)).string()},
        {"test_images", data_dir.write("test-images", idx(0, {2, 2}, "")).string()},
        {"test_labels", data_dir.write("test-labels", idx(0, {}, "")).string()},
        {"validation_fraction", 0.1}};
    CHECK_THROWS_WITH_AS(backend().train(request(config, dir)),
                         (config["data"]["test_images"].get<std::string>() +
                          ": the test split is empty (no test images); a version trained without "
                          "one could never be evaluated")
                             .c_str(),
                         mlc::Error);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "state.pt"));
}

TEST_CASE("train refuses more threads than the limit before reading the data") {
  nlohmann::json config = wine_config();
  config["training"]["threads"] = 100000;
  config["data"]["path"] = "/nonexistent/wine.csv";
  TempDir dir;
  try {
    backend().train(request(config, dir));
    FAIL("train did not refuse");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    CHECK(std::string(error.what()).rfind("training.threads: 100000 threads is more than the limit of ", 0) == 0);
  }
}

TEST_CASE("a batch larger than the training split is the whole split") {
  nlohmann::json config = wine_config();
  config["training"]["epochs"] = 2;
  config["training"]["batch_size"] = int64_t{1} << 40;  // as a buffer: 57 TB
  TempDir dir;
  mlc::TrainRequest train = request(config, dir);
  int64_t batches = 0;
  train.on_batch = [&](const mlc::BatchProgress& batch) { batches = batch.batches; };
  const auto result = backend().train(train);
  CHECK(batches == 1);
  CHECK(result.epochs.size() == 2);
}

TEST_CASE("a run killed before its first state was saved resumes from the start") {
  nlohmann::json config = wine_config();
  config["training"]["epochs"] = 3;
  TempDir whole_dir;
  const auto whole = backend().train(request(config, whole_dir));

  TempDir run_dir;  // what a kill -9 in epoch 1 leaves: best.pt at most, no state.pt
  mlc::TrainRequest resumed = request(config, run_dir);
  resumed.resume = true;
  const auto finished = backend().train(resumed);
  REQUIRE(finished.epochs.size() == 3);
  CHECK(finished.epochs[2].train_loss == whole.epochs[2].train_loss);
  CHECK(same_weights(config, finished, whole));
}
