#include "torch_doctest.hpp"  // first: see why there

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "compute_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"

using mlc::test::backend;
using mlc::test::TempDir;

namespace {

// Large enough that the tensors, not the archive's code and names, are most of the file.
nlohmann::json model_config(const std::string& architecture) {
  if (architecture == "mlp") {
    return {{"architecture", "mlp"}, {"hidden_layers", {256, 256}}, {"activation", "relu"},
            {"dropout", 0.0}};
  }
  if (architecture == "transformer") {
    return {{"architecture", "transformer"}, {"d_model", 64}, {"nhead", 4}, {"num_layers", 2},
            {"dim_feedforward", 128}};
  }
  return {{"architecture", architecture}, {"hidden_size", 32}};
}

// The Linear layers of model_config(architecture): the transformer's are its embedding, each
// layer's attention in and out projections and two feed-forward layers, and its output.
int64_t linear_layers(const std::string& architecture) {
  if (architecture == "mlp") return 3;
  if (architecture == "transformer") return 1 + 2 * 4 + 1;
  return 1;
}

struct TrainedOnWine {
  TempDir dir;
  mlc::TrainedModel model;
};

// Each architecture trained once per process: doctest runs a test case again for each subcase.
const mlc::TrainedModel& trained(const std::string& architecture) {
  static std::map<std::string, std::unique_ptr<TrainedOnWine>> models;
  auto& entry = models[architecture];
  if (!entry) {
    entry = std::make_unique<TrainedOnWine>();
    nlohmann::json config = mlc::test::wine_config();
    config["model"] = model_config(architecture);
    entry->model = mlc::test::train_model(mlc::test::with_defaults(config), entry->dir);
  }
  return entry->model;
}

mlc::VariantResult make_variant(
    const mlc::TrainedModel& model, mlc::VariantKind kind, const std::filesystem::path& out,
    mlc::Quantization quantization = mlc::Quantization::by_architecture) {
  mlc::VariantRequest request;
  request.model = model;
  request.data = model.config["data"];
  request.kind = kind;
  request.out = out;
  request.quantization = quantization;
  return backend().export_variant(request);
}

// A small CNN on 1000 Fashion-MNIST training images (900 after validation), one epoch: a
// convolution with batch norm and relu, a pool, one with relu, and a hidden linear layer with
// relu before the output layer.
const mlc::TrainedModel& trained_cnn() {
  static std::unique_ptr<TrainedOnWine> entry;
  if (!entry) {
    entry = std::make_unique<TrainedOnWine>();
    nlohmann::json config = mlc::test::fashion_config();
    config["data"]["train_limit"] = 1000;
    config["data"]["test_limit"] = 200;
    config["model"] = {{"architecture", "cnn"},
                       {"layers",
                        {{{"type", "conv2d"}, {"out_channels", 8}, {"kernel_size", 3}, {"padding", 1}},
                         {{"type", "batch_norm"}},
                         {{"type", "relu"}},
                         {{"type", "max_pool2d"}, {"kernel_size", 2}},
                         {{"type", "conv2d"}, {"out_channels", 8}, {"kernel_size", 3}},
                         {{"type", "relu"}},
                         {{"type", "flatten"}},
                         {{"type", "linear"}, {"out_features", 32}},
                         {{"type", "relu"}}}}};
    entry->model = mlc::test::train_model(mlc::test::with_defaults(config), entry->dir);
  }
  return entry->model;
}

// The first `count` Fashion-MNIST test images, raw pixels.
torch::Tensor fashion_test_images(const mlc::TrainedModel& model, int64_t count) {
  const auto splits = mlc::data::load_splits(model.config["data"],
                                             mlc::data::split_seed(model.config), {});
  return torch::tensor(splits.test.features).reshape({splits.test.count(), 28, 28}).slice(0, 0, count);
}

// The wine table's raw test rows, as the data library gives them to every other step.
torch::Tensor test_features(const mlc::TrainedModel& model) {
  const auto splits = mlc::data::load_splits(model.config["data"],
                                             mlc::data::split_seed(model.config), {"0", "1", "2"});
  return torch::tensor(splits.test.features).reshape({splits.test.count(), 13});
}

torch::Tensor run_file(const std::filesystem::path& file, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module = torch::jit::load(file.string());
  module.eval();
  return module.forward({input}).toTensor();
}

// The largest difference between `actual` and `expected` relative to the largest |expected|.
double relative_difference(const torch::Tensor& actual, const torch::Tensor& expected) {
  return (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

void check_latencies(const mlc::VariantMeasurement& measurement) {
  CHECK(measurement.latency_batch1_ms > 0);
  CHECK(measurement.latency_batch64_ms > 0);
}

}  // namespace

TEST_CASE("export_variant fp16 stores about half the bytes at fp32's accuracy") {
  for (const std::string architecture : {"mlp", "transformer"}) {
    CAPTURE(architecture);
    const mlc::TrainedModel& model = trained(architecture);
    TempDir dir;
    const auto out = dir / "variant" / "fp16.pt";
    const mlc::VariantResult result = make_variant(model, mlc::VariantKind::fp16, out);
    backend().export_torchscript(model, dir / "fp32.pt");

    REQUIRE(std::filesystem::is_regular_file(out));
    CHECK_FALSE(std::filesystem::exists(dir / "variant" / "fp16.pt.tmp"));
    CHECK(result.variant.size_bytes == static_cast<int64_t>(std::filesystem::file_size(out)));
    CHECK(result.fp32.size_bytes ==
          static_cast<int64_t>(std::filesystem::file_size(dir / "fp32.pt")));
    CHECK(result.variant.size_bytes < 0.6 * static_cast<double>(result.fp32.size_bytes));
    CHECK(std::abs(result.variant.metrics.at("accuracy") - result.fp32.metrics.at("accuracy")) <=
          0.02);
    const torch::Tensor features = test_features(model);
    CHECK(relative_difference(run_file(out, features), run_file(dir / "fp32.pt", features)) <=
          1e-2);
    CHECK(result.details.at("storage") == "float16");
    // The preprocessing's: on the raw data's scale (wine's proline is in the thousands).
    CHECK(result.details.at("fp32_tensors") ==
          nlohmann::json::array({"standardize_mean", "standardize_stddev", "standardize_fill",
                                 "standardize_category_codes"}));
    check_latencies(result.fp32);
    check_latencies(result.variant);
  }
}

TEST_CASE("export_variant int8 quantises every Linear layer") {
  const std::map<std::string, nlohmann::json> fp32_layers = {
      {"mlp", nlohmann::json::array()},
      {"transformer", {"layer_norm", "attention"}},
      {"lstm", nlohmann::json::array()},
      {"gru", nlohmann::json::array()}};
  for (const auto& [architecture, left_in_fp32] : fp32_layers) {
    CAPTURE(architecture);
    const mlc::TrainedModel& model = trained(architecture);
    TempDir dir;
    const mlc::VariantResult result = make_variant(model, mlc::VariantKind::int8, dir / "int8.pt");
    backend().export_torchscript(model, dir / "fp32.pt");

    CHECK(result.details.at("engine") == "onednn");
    CHECK(result.details.at("quantized_linear_layers") == linear_layers(architecture));
    CHECK(result.details.at("fp32_layers") == left_in_fp32);
    CHECK(result.details.at("quantization") == "dynamic");
    const bool recurrent = architecture == "lstm" || architecture == "gru";
    CHECK(result.details.at("quantized_recurrent_cells") == (recurrent ? 1 : 0));
    CHECK(result.metadata.inputs == backend().export_torchscript(model, dir / "again.pt").inputs);
    // The int8 weights' rounding moves the logits by a few percent of their scale; how many
    // depends on the trained weights, most for the transformer: 0.002 to 0.20 over training seeds
    // 1-6 with dropout 0 or 0.1. A wrong scale or a misplaced weight moves them by their whole
    // scale.
    const torch::Tensor features = test_features(model);
    const torch::Tensor int8_logits = run_file(dir / "int8.pt", features);
    CHECK(relative_difference(int8_logits, run_file(dir / "fp32.pt", features)) <=
          (architecture == "transformer" ? 0.3 : 0.05));
    CHECK(result.variant.metrics.count("loss") == 1);
    CHECK(result.variant.metrics.count("f1_macro") == 1);
    CHECK(std::abs(result.variant.metrics.at("accuracy") - result.fp32.metrics.at("accuracy")) <=
          0.06);
    // The recurrent models' weights are small (32 hidden units): the packed form's overhead is
    // most of the file.
    if (!recurrent) CHECK(result.variant.size_bytes < result.fp32.size_bytes / 2);
    check_latencies(result.fp32);
    check_latencies(result.variant);
  }
}

TEST_CASE("export_variant int8 counts a recurrent model's cells, one per layer and direction") {
  nlohmann::json config = mlc::test::wine_config();
  config["model"] = {{"architecture", "lstm"}, {"hidden_size", 16}, {"num_layers", 2}, {"bidirectional", true}};
  config["training"]["epochs"] = 3;  // the count does not depend on training
  TempDir train_dir;
  const mlc::TrainedModel model = mlc::test::train_model(mlc::test::with_defaults(config), train_dir);
  TempDir dir;
  const mlc::VariantResult result = make_variant(model, mlc::VariantKind::int8, dir / "int8.pt");
  CHECK(result.details.at("quantized_recurrent_cells") == 4);
  CHECK(result.details.at("fp32_layers") == nlohmann::json::array());
}

TEST_CASE("export_variant measures the fp32 export as evaluate measures the model") {
  const mlc::TrainedModel& model = trained("mlp");
  TempDir dir;
  const mlc::VariantResult result = make_variant(model, mlc::VariantKind::int8, dir / "int8.pt");
  const mlc::EvalResult evaluation = backend().evaluate(model, model.config["data"]);

  CHECK(result.samples == 36);
  CHECK(result.data_fingerprint == evaluation.data_fingerprint);
  CHECK(result.fp32.metrics.size() == evaluation.metrics.size());
  for (const auto& [name, value] : evaluation.metrics) {
    CAPTURE(name);
    CHECK(result.fp32.metrics.at(name) == doctest::Approx(value).epsilon(1e-6));
  }
}

TEST_CASE("export_variant refuses data that does not fit the model, writing nothing") {
  const mlc::TrainedModel& model = trained("mlp");
  TempDir dir;
  mlc::VariantRequest request;
  request.model = model;
  request.data = model.config["data"];
  request.out = dir / "int8.pt";

  SUBCASE("an empty test split") {
    mlc::test::write_file(dir / "three.csv", mlc::test::wine_head(3));
    request.data["path"] = (dir / "three.csv").string();
    request.data["test_fraction"] = 0.1;
    const std::string expected = (dir / "three.csv").string() + ": the test split is empty";
    CHECK_THROWS_WITH_AS(backend().export_variant(request), expected.c_str(), mlc::Error);
    CHECK_THROWS_WITH_AS(backend().evaluate(model, request.data), expected.c_str(), mlc::Error);
  }
  SUBCASE("other feature columns") {
    std::string table = mlc::test::wine_head(20);
    table.replace(0, std::string("alcohol").size(), "ethanol");
    request.data["path"] = dir.write("renamed.csv", table).string();
    request.kind = mlc::VariantKind::fp16;
    try {
      backend().export_variant(request);
      FAIL("export_variant did not throw");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
      CHECK(std::string(error.what())
                .rfind((dir / "renamed.csv").string() + ": feature columns (ethanol, ", 0) == 0);
    }
  }
  CHECK_FALSE(std::filesystem::exists(request.out));
}

TEST_CASE("export_variant int8 of a CNN is static: every layer int8, scales from training samples") {
  if (!mlc::test::have_fashion_mnist()) {
    MESSAGE("skipped: no Fashion-MNIST in " MLC_FASHION_MNIST_DIR);
    return;
  }
  const mlc::TrainedModel& model = trained_cnn();
  TempDir dir;
  const mlc::VariantResult result = make_variant(model, mlc::VariantKind::int8, dir / "int8.pt");
  backend().export_torchscript(model, dir / "fp32.pt");

  CHECK(result.details.at("quantization") == "static");
  CHECK(result.details.at("quantized_conv_layers") == 2);
  CHECK(result.details.at("quantized_linear_layers") == 2);  // the hidden layer and the output
  CHECK(result.details.at("fused_relu") == 3);
  CHECK(result.details.at("folded_batch_norms") == 1);
  CHECK(result.details.at("fp32_layers") == nlohmann::json::array());
  CHECK(result.details.at("calibration") ==
        nlohmann::json({{"method", "min/max"}, {"split", "train"}, {"samples", 512}, {"seed", 0}}));
  // uint8 activations and int8 weights move the logits by a few percent of their scale.
  const torch::Tensor images = fashion_test_images(model, 100);
  const torch::Tensor int8_logits = run_file(dir / "int8.pt", images);
  const torch::Tensor fp32_logits = run_file(dir / "fp32.pt", images);
  CHECK(relative_difference(int8_logits, fp32_logits) <= 0.1);
  // One epoch on 900 images leaves some of them near a tie between two classes.
  CHECK(int8_logits.argmax(1).eq(fp32_logits.argmax(1)).to(torch::kFloat64).mean().item<double>() >=
        0.9);
  CHECK(std::abs(result.variant.metrics.at("accuracy") - result.fp32.metrics.at("accuracy")) <=
        0.03);
  CHECK(result.variant.size_bytes < result.fp32.size_bytes / 2);
  check_latencies(result.variant);

  SUBCASE("dynamic on request: only the Linear layers") {
    const mlc::VariantResult dynamic = make_variant(model, mlc::VariantKind::int8,
                                                    dir / "dynamic.pt", mlc::Quantization::dynamic);
    CHECK(dynamic.details.at("quantization") == "dynamic");
    CHECK(dynamic.details.at("quantized_linear_layers") == 2);
    CHECK(dynamic.details.at("fp32_layers") == nlohmann::json({"conv2d", "batch_norm"}));
  }
}

TEST_CASE("export_variant refuses static int8 of a model without convolutions, writing nothing") {
  const std::map<std::string, std::string> refusals = {
      {"lstm", "the MlcLstm model has recurrent layers (lstm)"},
      {"gru", "the MlcGru model has recurrent layers (gru)"},
      {"transformer", "the MlcTransformer model has attention layers"},
      {"mlp", "the MlcMlp model has no conv2d layer"}};
  for (const auto& [architecture, reason] : refusals) {
    CAPTURE(architecture);
    TempDir dir;
    try {
      make_variant(trained(architecture), mlc::VariantKind::int8, dir / "int8.pt",
                   mlc::Quantization::static_int8);
      FAIL("export_variant did not throw");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::refused);
      CHECK(std::string(error.what()) == "int8: static quantisation is for convolutional models; " +
                                             reason + " (use --quantization dynamic)");
    }
    CHECK_FALSE(std::filesystem::exists(dir / "int8.pt"));
  }
}
