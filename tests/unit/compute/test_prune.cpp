#include "torch_doctest.hpp"  // first: see why there

#include <torch/utils.h>

#include <string>
#include <utility>
#include <vector>

#include "compute_fixtures.hpp"
#include "exporter.hpp"
#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"
#include "prune.hpp"

using mlc::compute::build_model;
using mlc::compute::Classifier;
using mlc::compute::ModelInfo;
using mlc::compute::prune_model;
using mlc::compute::PrunedModel;
using nlohmann::json;

namespace {

// Samples of `shape` standardized by one mean and std, as images are; three classes.
ModelInfo info_of(std::vector<int64_t> shape) {
  ModelInfo info;
  info.class_names = {"a", "b", "c"};
  info.input_shape = std::move(shape);
  info.input_description = "raw values, FP32";
  info.standardization = {mlc::compute::StandardizeScope::global, {100.0F}, {50.0F}};
  return info;
}

// A train config around `model`, checked by the schema with its defaults filled in.
json train_config(json model) {
  json config = {{"data", {{"format", "csv"}, {"path", "t.csv"}, {"target", "y"}}},
                 {"model", std::move(model)},
                 {"training",
                  {{"epochs", 3},
                   {"batch_size", 16},
                   {"seed", 7},
                   {"optimizer", {{"name", "adam"}, {"learning_rate", 0.01}}}}}};
  const json& schema = mlc::embedded_schema("train-config.schema.json");
  mlc::apply_schema_defaults(config, schema);
  mlc::validate_json(config, schema, "test.json");
  return config;
}

Classifier built(const json& config, const ModelInfo& info) {
  torch::manual_seed(0);
  Classifier model = build_model(config["model"], info);
  model->eval();
  return model;
}

torch::Tensor tensor_of(const Classifier& model, const std::string& name) {
  for (const auto& parameter : model->named_parameters()) {
    if (parameter.key() == name) return parameter.value();
  }
  for (const auto& buffer : model->named_buffers()) {
    if (buffer.key() == name) return buffer.value();
  }
  FAIL("no tensor " << name);
  return {};
}

std::vector<int64_t> shape_of(const Classifier& model, const std::string& name) {
  return tensor_of(model, name).sizes().vec();
}

// Makes units `units` of layer `layer` the weakest (their incoming weights and bias zero, so that
// pruning picks them) and without effect: the inputs of `next` they feed are zero, `block` inputs
// per unit (a channel's height x width columns after a flatten; 1 for a convolution's input
// channel). A batch norm between them may then hold any values: whatever those units output, the
// function does not depend on it, while a batch norm sliced with other units than the layer's
// would change it.
void silence(const Classifier& model, const std::string& layer, const std::vector<int64_t>& units,
             const std::string& next, int64_t block = 1) {
  torch::NoGradGuard no_grad;
  for (const int64_t unit : units) {
    tensor_of(model, layer + ".weight")[unit].zero_();
    tensor_of(model, layer + ".bias")[unit].zero_();
    tensor_of(model, next + ".weight").narrow(1, unit * block, block).zero_();
  }
}

// A trained batch norm's values rather than its initial ones (scale 1, shift 0, mean 0, var 1).
void randomize_batch_norm(const Classifier& model, const std::string& name) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  tensor_of(model, name + ".weight").uniform_(0.5, 1.5);
  tensor_of(model, name + ".bias").normal_(0, 1);
  tensor_of(model, name + ".running_mean").normal_(0, 1);
  tensor_of(model, name + ".running_var").uniform_(0.5, 2.0);
}

// Pruning only the silenced units leaves the function unchanged.
void check_same_outputs(const Classifier& original, const PrunedModel& pruned,
                        const ModelInfo& info) {
  torch::NoGradGuard no_grad;
  const torch::Tensor inputs = mlc::compute::probe_inputs(info);
  const torch::Tensor expected = original->predict(inputs);
  const torch::Tensor actual = pruned.model->predict(inputs);
  CHECK((actual - expected).abs().max().item<double>() < 1e-5);
}

int64_t parameters(const Classifier& model) {
  int64_t count = 0;
  for (const torch::Tensor& parameter : model->parameters()) count += parameter.numel();
  return count;
}

}  // namespace

TEST_CASE("prune_model") {
  SUBCASE("mlp: half the units of each hidden layer, batch norm with them") {
    const ModelInfo info = info_of({13});
    const json config = train_config(
        {{"architecture", "mlp"}, {"hidden_layers", {8, 6}}, {"batch_norm", true}});
    const Classifier model = built(config, info);
    randomize_batch_norm(model, "bn0");
    randomize_batch_norm(model, "bn1");
    silence(model, "fc0", {1, 3, 5, 7}, "fc1");
    silence(model, "fc1", {0, 2, 4}, "fc2");
    const PrunedModel pruned = prune_model(*model, config["model"], info, 0.5);
    CHECK(pruned.model_config["hidden_layers"] == json({4, 3}));
    CHECK(shape_of(pruned.model, "fc0.weight") == std::vector<int64_t>{4, 13});
    CHECK(shape_of(pruned.model, "bn0.running_var") == std::vector<int64_t>{4});
    CHECK(shape_of(pruned.model, "fc1.weight") == std::vector<int64_t>{3, 4});
    CHECK(shape_of(pruned.model, "bn1.weight") == std::vector<int64_t>{3});
    CHECK(shape_of(pruned.model, "fc2.weight") == std::vector<int64_t>{3, 3});
    CHECK(pruned.parameters_before == parameters(model));
    CHECK(pruned.parameters_after == parameters(pruned.model));
    CHECK(pruned.parameters_after < pruned.parameters_before);
    REQUIRE(pruned.layers.size() == 2);
    CHECK(pruned.layers[0].name == "fc0");
    CHECK(pruned.layers[0].units_before == 8);
    CHECK(pruned.layers[0].units_after == 4);
    CHECK(pruned.layers[1].name == "fc1");
    CHECK(pruned.layers[1].units_after == 3);
    // The kept units are the live ones, in their order.
    CHECK(torch::equal(tensor_of(pruned.model, "fc0.weight"),
                       tensor_of(model, "fc0.weight").index_select(
                           0, torch::tensor({0, 2, 4, 6}, torch::kInt64))));
    check_same_outputs(model, pruned, info);
  }

  SUBCASE("cnn: channels through batch norm, a pool and a flatten, and a hidden linear layer") {
    const ModelInfo info = info_of({8, 8});
    const json config = train_config({{"architecture", "cnn"}, {"layers", json::parse(R"([
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "batch_norm"},
        {"type": "relu"},
        {"type": "max_pool2d", "kernel_size": 2},
        {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1},
        {"type": "relu"},
        {"type": "flatten"},
        {"type": "linear", "out_features": 5},
        {"type": "relu"}])")}});
    const Classifier model = built(config, info);
    randomize_batch_norm(model, "layers.1");
    silence(model, "layers.0", {0, 2}, "layers.4");
    silence(model, "layers.4", {1, 3, 5}, "layers.7", 4 * 4);  // flattened: 4x4 columns a channel
    silence(model, "layers.7", {0, 1, 4}, "output");  // 5 units: round(2.5) = 3 go
    const PrunedModel pruned = prune_model(*model, config["model"], info, 0.5);
    CHECK(pruned.model_config["layers"][0]["out_channels"] == 2);
    CHECK(pruned.model_config["layers"][4]["out_channels"] == 3);
    CHECK(pruned.model_config["layers"][7]["out_features"] == 2);
    CHECK(shape_of(pruned.model, "layers.0.weight") == std::vector<int64_t>{2, 1, 3, 3});
    CHECK(shape_of(pruned.model, "layers.1.running_mean") == std::vector<int64_t>{2});
    CHECK(shape_of(pruned.model, "layers.4.weight") == std::vector<int64_t>{3, 2, 3, 3});
    CHECK(shape_of(pruned.model, "layers.7.weight") == std::vector<int64_t>{2, 3 * 4 * 4});
    CHECK(shape_of(pruned.model, "output.weight") == std::vector<int64_t>{3, 2});
    CHECK(pruned.parameters_after < pruned.parameters_before);
    REQUIRE(pruned.layers.size() == 3);
    CHECK(pruned.layers[1].name == "layers.4");
    check_same_outputs(model, pruned, info);
    mlc::compute::script_classifier(*pruned.model, info);  // its script computes the same
  }

  SUBCASE("transformer: the feed-forward units of every encoder layer") {
    const ModelInfo info = info_of({4, 6});
    const json config = train_config({{"architecture", "transformer"}, {"d_model", 8},
                                      {"nhead", 2}, {"num_layers", 2}, {"dim_feedforward", 8}});
    const Classifier model = built(config, info);
    silence(model, "layers.0.linear1", {0, 1, 2, 3}, "layers.0.linear2");
    silence(model, "layers.1.linear1", {4, 5, 6, 7}, "layers.1.linear2");
    const PrunedModel pruned = prune_model(*model, config["model"], info, 0.5);
    CHECK(pruned.model_config["dim_feedforward"] == 4);
    CHECK(shape_of(pruned.model, "layers.1.linear1.weight") == std::vector<int64_t>{4, 8});
    CHECK(shape_of(pruned.model, "layers.1.linear2.weight") == std::vector<int64_t>{8, 4});
    check_same_outputs(model, pruned, info);
    mlc::compute::script_classifier(*pruned.model, info);
  }

  SUBCASE("keeps one unit at least") {
    const ModelInfo info = info_of({13});
    const json config = train_config({{"architecture", "mlp"}, {"hidden_layers", {2}}});
    const PrunedModel pruned = prune_model(*built(config, info), config["model"], info, 0.9);
    CHECK(pruned.model_config["hidden_layers"] == json({1}));
  }

  SUBCASE("the pruned model exports as the fp32 one does") {
    const ModelInfo info = info_of({13});
    const json config = train_config({{"architecture", "mlp"}, {"hidden_layers", {8}}});
    const PrunedModel pruned = prune_model(*built(config, info), config["model"], info, 0.25);
    const mlc::compute::ScriptedModel script =
        mlc::compute::script_classifier(*pruned.model, info);
    CHECK(!script.bytes.empty());
    CHECK(script.metadata.inputs[0]["shape"] == json({-1, 13}));
  }

  SUBCASE("refused: recurrent models, fractions outside (0, 1)") {
    const ModelInfo info = info_of({4, 6});
    const json lstm = train_config({{"architecture", "lstm"}, {"hidden_size", 4}});
    REQUIRE_THROWS_WITH(prune_model(*built(lstm, info), lstm["model"], info, 0.5),
                        "a lstm model cannot be pruned: --variant prune removes hidden units of "
                        "mlp, cnn and transformer models only");
    const json mlp = train_config({{"architecture", "mlp"}, {"hidden_layers", {4}}});
    for (const double fraction : {0.0, 1.0, -0.5, 1.5}) {
      CAPTURE(fraction);
      try {
        prune_model(*built(mlp, info), mlp["model"], info, fraction);
        FAIL("not refused");
      } catch (const mlc::Error& error) {
        CHECK(error.kind() == mlc::ErrorKind::usage);
      }
    }
  }
}

TEST_CASE("finetune") {
  const ModelInfo info = info_of({13});
  const json config = train_config({{"architecture", "mlp"}, {"hidden_layers", {8}}});
  const Classifier model = built(config, info);
  torch::manual_seed(1);
  const mlc::compute::SampleTensors train{torch::randn({40, 13}) * 50 + 100,
                                          torch::randint(3, {40}, torch::kInt64)};

  SUBCASE("one epoch changes the weights, with the training config's seed") {
    const torch::Tensor before = tensor_of(model, "fc0.weight").clone();
    const std::vector<double> losses =
        mlc::compute::finetune(*model, config, mlc::compute::Task::classification, train, 1);
    REQUIRE(losses.size() == 1);
    CHECK(std::isfinite(losses[0]));
    CHECK(!torch::equal(before, tensor_of(model, "fc0.weight")));
    CHECK(!model->is_training());
    // The same seed, the same start: the same weights.
    const Classifier again = built(config, info);
    mlc::compute::finetune(*again, config, mlc::compute::Task::classification, train, 1);
    CHECK(torch::equal(tensor_of(again, "fc0.weight"), tensor_of(model, "fc0.weight")));
  }

  SUBCASE("an empty training split is refused") {
    const mlc::compute::SampleTensors empty{torch::empty({0, 13}),
                                            torch::empty({0}, torch::kInt64)};
    REQUIRE_THROWS_WITH(mlc::compute::finetune(*model, config, mlc::compute::Task::classification,
                                               empty, 1),
                        "--finetune-epochs: the training split is empty");
  }

  SUBCASE("more epochs than training.epochs allows are refused") {
    REQUIRE_THROWS_WITH(mlc::compute::finetune(*model, config, mlc::compute::Task::classification,
                                               train, 1000001),
                        "--finetune-epochs 1000001: at most 1000000, as training.epochs");
  }
}

TEST_CASE("prune_variant") {
  mlc::test::TempDir dir;
  json config = mlc::test::wine_config();
  config["model"]["hidden_layers"] = {64, 32};
  config = mlc::test::with_defaults(config);
  const mlc::TrainedModel model = mlc::test::train_model(config, dir);
  mlc::VariantRequest request;
  request.model = model;
  request.data = config["data"];
  request.kind = mlc::VariantKind::prune;
  request.out = dir.path() / "prune.pt";
  request.prune_fraction = 0.5;

  SUBCASE("a smaller model, measured beside the fp32 export, fine-tuned") {
    request.finetune_epochs = 1;
    const mlc::VariantResult result = mlc::test::backend().export_variant(request);
    CHECK(result.format == "torchscript");
    CHECK(result.details["method"] == "structured, L2 norm of incoming weights");
    CHECK(result.details["parameters_after"].get<int64_t>() <
          result.details["parameters_before"].get<int64_t>());
    CHECK(result.details["layers"] ==
          json::parse(R"([{"name": "fc0", "units_before": 64, "units_after": 32},
                          {"name": "fc1", "units_before": 32, "units_after": 16}])"));
    CHECK(result.details["finetune_train_loss"].size() == 1);
    CHECK(result.details["model"]["hidden_layers"] == json({32, 16}));
    CHECK(result.variant.size_bytes < result.fp32.size_bytes);
    CHECK(result.variant.metrics.count("accuracy") == 1);
    CHECK(result.variant.latency_batch64_ms.has_value());
    CHECK(std::filesystem::file_size(request.out) ==
          static_cast<uintmax_t>(result.variant.size_bytes));
    CHECK(result.metadata.inputs == json::parse(R"([{"name": "input", "datatype": "FP32",
                                                     "shape": [-1, 13]}])"));
  }

  SUBCASE("an LSTM is refused before anything is written") {
    json lstm = mlc::test::wine_config();
    lstm["model"] = {{"architecture", "lstm"}, {"hidden_size", 4}};
    lstm["training"]["epochs"] = 1;
    mlc::test::TempDir lstm_dir;
    request.model = mlc::test::train_model(mlc::test::with_defaults(lstm), lstm_dir);
    try {
      mlc::test::backend().export_variant(request);
      FAIL("not refused");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::refused);
    }
    CHECK(!std::filesystem::exists(request.out));
  }
}
