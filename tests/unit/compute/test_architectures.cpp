#include "torch_doctest.hpp"  // first: see why there

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint.hpp"
#include "compute_fixtures.hpp"
#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

using mlc::compute::build_model;
using mlc::compute::ModelInfo;
using mlc::test::backend;
using mlc::test::TempDir;
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

// `model` as load_train_config gives it to the backend: checked by the schema, defaults filled.
json checked(json model) {
  json config = {{"data", {{"format", "csv"}, {"path", "t.csv"}, {"target", "y"}}},
                 {"model", std::move(model)},
                 {"training",
                  {{"epochs", 1},
                   {"batch_size", 4},
                   {"seed", 0},
                   {"optimizer", {{"name", "adam"}, {"learning_rate", 0.01}}}}}};
  const json& schema = mlc::embedded_schema("train-config.schema.json");
  mlc::apply_schema_defaults(config, schema);
  mlc::validate_json(config, schema, "test.json");
  return config["model"];
}

json cnn_layers() {
  return json::parse(R"([
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
    {"type": "batch_norm"},
    {"type": "relu"},
    {"type": "max_pool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 6, "kernel_size": 2, "stride": 2, "bias": false},
    {"type": "gelu"},
    {"type": "avg_pool2d", "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "dropout", "p": 0.25},
    {"type": "tanh"},
    {"type": "flatten"},
    {"type": "linear", "out_features": 7},
    {"type": "batch_norm", "momentum": 0.5, "eps": 0.001},
    {"type": "sigmoid"}])");
}

struct Example {
  const char* name;
  json model;
  std::vector<int64_t> input_shape;
};

// One config per architecture and per option that changes the computation.
std::vector<Example> examples() {
  return {
      {"mlp with batch norm",
       checked({{"architecture", "mlp"},
                {"hidden_layers", {6, 5}},
                {"batch_norm", true},
                {"activation", "tanh"},
                {"dropout", 0.2}}),
       {8, 8}},
      {"cnn with every layer type",
       checked({{"architecture", "cnn"}, {"layers", cnn_layers()}}),
       {8, 8}},
      {"cnn over channels",
       checked({{"architecture", "cnn"}, {"layers", cnn_layers()}}),
       {2, 8, 8}},
      {"lstm", checked({{"architecture", "lstm"}, {"hidden_size", 5}}), {8, 8}},
      {"lstm, 2 bidirectional layers, mean pooling",
       checked({{"architecture", "lstm"},
                {"hidden_size", 5},
                {"num_layers", 2},
                {"bidirectional", true},
                {"dropout", 0.3},
                {"pooling", "mean"}}),
       {8, 8}},
      {"gru over a table", checked({{"architecture", "gru"}, {"hidden_size", 4}}), {6}},
      {"gru, 2 bidirectional layers",
       checked({{"architecture", "gru"},
                {"hidden_size", 4},
                {"num_layers", 2},
                {"bidirectional", true}}),
       {8, 8}},
      {"transformer over rows",
       checked({{"architecture", "transformer"},
                {"d_model", 8},
                {"nhead", 2},
                {"num_layers", 2},
                {"dim_feedforward", 16}}),
       {8, 8}},
      {"transformer over patches, class token, sinusoidal, pre-norm, gelu",
       checked({{"architecture", "transformer"},
                {"d_model", 12},
                {"nhead", 3},
                {"num_layers", 1},
                {"dim_feedforward", 10},
                {"patch_size", 4},
                {"pooling", "cls"},
                {"positional_encoding", "sinusoidal"},
                {"norm_first", true},
                {"activation", "gelu"}}),
       {8, 8}},
  };
}

torch::Tensor sample_batch(const std::vector<int64_t>& input_shape, int64_t count) {
  std::vector<int64_t> shape = {count};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  return torch::rand(shape) * 255;
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// The outputs of `model` on `input`, then the gradient of each of its parameters for the sum of
// the outputs weighed by `weights`, in the model's current train/eval mode.
std::vector<torch::Tensor> outputs_and_gradients(mlc::compute::ClassifierImpl& model,
                                                 const torch::Tensor& input,
                                                 const torch::Tensor& weights) {
  model.zero_grad();
  const torch::Tensor outputs = model.forward(input);
  (outputs * weights).sum().backward();
  std::vector<torch::Tensor> result = {outputs.detach()};
  for (const auto& tensor : model.parameters()) result.push_back(tensor.grad().clone());
  return result;
}

torch::Tensor parameter(const mlc::compute::ClassifierImpl& model, const std::string& name) {
  const auto parameters = model.named_parameters();
  REQUIRE(parameters.contains(name));
  return parameters[name];
}

// Population standard deviation and largest magnitude of a tensor's values.
std::pair<double, double> spread(const torch::Tensor& values) {
  return {values.std(/*unbiased=*/false).item<double>(), values.abs().max().item<double>()};
}

std::string build_error(json model, std::vector<int64_t> input_shape) {
  try {
    build_model(checked(std::move(model)), info_of(std::move(input_shape)));
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("each architecture maps a batch of raw samples to one output per class") {
  for (const Example& example : examples()) {
    CAPTURE(example.name);
    torch::manual_seed(0);
    const auto model = build_model(example.model, info_of(example.input_shape));
    const torch::Tensor outputs = model->forward(sample_batch(example.input_shape, 5));
    CHECK(outputs.sizes() == torch::IntArrayRef({5, 3}));
    CHECK(torch::isfinite(outputs).all().item<bool>());
    outputs.sum().backward();
    for (const auto& tensor : model->named_parameters()) {
      CAPTURE(tensor.key());
      CHECK(tensor.value().grad().defined());  // every parameter takes part
    }
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor input = sample_batch(example.input_shape, 3);
    CHECK(torch::equal(model->forward(input), model->forward(input)));  // no dropout in eval
    CHECK(model->forward(sample_batch(example.input_shape, 0)).sizes() ==
          torch::IntArrayRef({0, 3}));
  }
}

TEST_CASE("each architecture exports to TorchScript that computes its outputs") {
  for (const Example& example : examples()) {
    CAPTURE(example.name);
    TempDir dir;
    const ModelInfo info = info_of(example.input_shape);
    torch::manual_seed(3);
    const auto model = build_model(example.model, info);
    for (int step = 0; step < 3; ++step) {  // moves the batch norms' running statistics
      model->forward(sample_batch(example.input_shape, 6));
    }
    mlc::compute::save_checkpoint(*model, dir / "checkpoint.pt");

    // The exporter itself refuses a script that differs from the model by more than 1e-5.
    const json config = {{"model", example.model}};
    backend().export_torchscript({config, to_json(info), dir / "checkpoint.pt"}, dir / "model.pt");

    torch::NoGradGuard no_grad;
    model->eval();
    torch::jit::Module loaded = torch::jit::load((dir / "model.pt").string());
    loaded.eval();
    const torch::Tensor input = sample_batch(example.input_shape, 7);
    const torch::Tensor expected = model->forward(input);
    CHECK(max_difference(loaded.forward({input}).toTensor(), expected) <= 1e-5);
    CHECK(loaded.forward({input.slice(0, 0, 1)}).toTensor().sizes() == torch::IntArrayRef({1, 3}));
  }
}

TEST_CASE("training an lstm or gru gives torch::lstm's and torch::gru's outputs and gradients") {
  // In training, one direction runs through mlc's fused layers; in eval with gradients on, through
  // torch's operators. Without dropout both compute the same function.
  const std::pair<const char*, json> models[] = {
      {"lstm", checked({{"architecture", "lstm"}, {"hidden_size", 5}})},
      {"lstm, 2 layers, mean pooling",
       checked({{"architecture", "lstm"}, {"hidden_size", 6}, {"num_layers", 2}, {"pooling", "mean"}})},
      {"gru", checked({{"architecture", "gru"}, {"hidden_size", 4}})},
      {"gru, 2 layers, mean pooling",
       checked({{"architecture", "gru"}, {"hidden_size", 7}, {"num_layers", 2}, {"pooling", "mean"}})},
  };
  for (const auto& [name, config] : models) {
    CAPTURE(name);
    torch::manual_seed(5);
    const auto model = build_model(config, info_of({8, 6}));
    const torch::Tensor input = sample_batch({8, 6}, 9);
    const torch::Tensor weights = torch::randn({9, 3});
    model->train(true);
    const std::vector<torch::Tensor> fused = outputs_and_gradients(*model, input, weights);
    model->train(false);
    const std::vector<torch::Tensor> reference = outputs_and_gradients(*model, input, weights);
    REQUIRE(fused.size() == reference.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      CAPTURE(i);
      CHECK(max_difference(fused[i], reference[i]) <= 1e-5);
    }
  }
}

TEST_CASE("a cnn's fused relu and pool paths give the gradients of the plain layers") {
  // mlc runs a relu that precedes a max pool after it, and a relu after a layer that does not
  // keep its output in place. Each pair below computes the same function with the same weights
  // (a relu of a relu is the relu), one through those paths and one without them.
  const char* conv = R"({"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1})";
  const char* relu = R"({"type": "relu"})";
  const char* pool = R"({"type": "max_pool2d", "kernel_size": 2})";
  const char* padded_pool = R"({"type": "max_pool2d", "kernel_size": 3, "stride": 2, "padding": 1})";
  const char* average = R"({"type": "avg_pool2d", "kernel_size": 2})";
  const char* flat = R"({"type": "flatten"})";
  const char* linear = R"({"type": "linear", "out_features": 5})";
  const auto layers = [](std::initializer_list<const char*> types) {
    json list = json::array();
    for (const char* type : types) list.push_back(json::parse(type));
    return checked({{"architecture", "cnn"}, {"layers", list}});
  };
  const std::pair<json, json> pairs[] = {
      {layers({conv, relu, pool, relu, flat}), layers({conv, pool, relu, flat})},
      {layers({conv, relu, padded_pool, relu, flat}), layers({conv, padded_pool, relu, relu, flat})},
      {layers({conv, relu, relu, average, relu, flat, linear, relu}),
       layers({conv, relu, average, relu, flat, linear, relu})},
  };
  for (const auto& [fused, plain] : pairs) {
    CAPTURE(fused.dump());
    const torch::Tensor input = sample_batch({8, 8}, 6);
    const torch::Tensor weights = torch::arange(6 * 3).reshape({6, 3});  // 6 samples, 3 classes
    const auto gradients = [&](const json& config) {
      torch::manual_seed(3);
      const auto model = build_model(config, info_of({8, 8}));
      model->train();
      return outputs_and_gradients(*model, input, weights);
    };
    const std::vector<torch::Tensor> ours = gradients(fused);
    const std::vector<torch::Tensor> reference = gradients(plain);
    REQUIRE(ours.size() == reference.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      CAPTURE(i);
      CHECK(torch::equal(ours[i], reference[i]));
    }
  }
}

TEST_CASE("the same seed gives the same weights") {
  for (const Example& example : examples()) {
    CAPTURE(example.name);
    const ModelInfo info = info_of(example.input_shape);
    torch::manual_seed(11);
    const auto first = build_model(example.model, info);
    torch::manual_seed(11);
    const auto second = build_model(example.model, info);
    torch::manual_seed(12);
    const auto other = build_model(example.model, info);
    bool all_same = true;
    bool any_differs = false;
    for (const auto& tensor : first->named_parameters()) {
      all_same = all_same && torch::equal(tensor.value(), parameter(*second, tensor.key()));
      any_differs = any_differs || !torch::equal(tensor.value(), parameter(*other, tensor.key()));
    }
    CHECK(all_same);
    CHECK(any_differs);
  }
}

TEST_CASE("parameter names follow PyTorch's modules") {
  const auto names = [](const json& model, std::vector<int64_t> shape) {
    std::vector<std::string> keys;
    for (const auto& tensor : build_model(model, info_of(std::move(shape)))->named_parameters()) {
      keys.push_back(tensor.key());
    }
    return keys;
  };
  CHECK(names(examples()[0].model, {8, 8}) ==
        std::vector<std::string>{"fc0.weight", "fc0.bias", "bn0.weight", "bn0.bias", "fc1.weight",
                                 "fc1.bias", "bn1.weight", "bn1.bias", "fc2.weight", "fc2.bias"});
  CHECK(names(checked({{"architecture", "cnn"},
                       {"layers", json::parse(R"([{"type": "conv2d", "out_channels": 2,
                          "kernel_size": 3}, {"type": "relu"}, {"type": "batch_norm"},
                          {"type": "flatten"}])")}}),
              {4, 4}) == std::vector<std::string>{"layers.0.weight", "layers.0.bias",
                                                  "layers.2.weight", "layers.2.bias",
                                                  "output.weight", "output.bias"});
  CHECK(
      names(checked({{"architecture", "gru"}, {"hidden_size", 2}, {"bidirectional", true}}), {3}) ==
      std::vector<std::string>{"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                               "rnn.bias_hh_l0", "rnn.weight_ih_l0_reverse",
                               "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse",
                               "rnn.bias_hh_l0_reverse", "output.weight", "output.bias"});
  const auto transformer = names(examples()[7].model, {8, 8});
  CHECK(std::find(transformer.begin(), transformer.end(), "layers.1.self_attn.in_proj_weight") !=
        transformer.end());
  CHECK(std::find(transformer.begin(), transformer.end(), "layers.0.self_attn.out_proj.bias") !=
        transformer.end());
  CHECK(std::find(transformer.begin(), transformer.end(), "layers.0.norm2.weight") !=
        transformer.end());
}

TEST_CASE("model.init fills each layer type's weights by its scheme") {
  const ModelInfo info = info_of({20, 30});  // 600 features into the first linear layer
  const auto mlp_with = [&](json init) {
    torch::manual_seed(5);
    return build_model(
        checked({{"architecture", "mlp"}, {"hidden_layers", {400}}, {"init", std::move(init)}}),
        info);
  };
  const double fan_in = 600;
  const double fan_out = 400;

  SUBCASE("zeros") {
    const auto model = mlp_with({{"linear", "zeros"}});
    for (const auto& tensor : model->named_parameters()) {
      CAPTURE(tensor.key());
      CHECK(tensor.value().abs().max().item<double>() == 0);
    }
  }
  SUBCASE("kaiming_normal: std sqrt(2 / fan_in), biases 0") {
    const auto model = mlp_with({{"linear", "kaiming_normal"}});
    CHECK(spread(parameter(*model, "fc0.weight")).first ==
          doctest::Approx(std::sqrt(2 / fan_in)).epsilon(0.03));
    CHECK(parameter(*model, "fc0.bias").abs().max().item<double>() == 0);
  }
  SUBCASE("kaiming_uniform: U(-sqrt(6 / fan_in), sqrt(6 / fan_in))") {
    const auto [std, largest] =
        spread(parameter(*mlp_with({{"linear", "kaiming_uniform"}}), "fc0.weight"));
    const double bound = std::sqrt(6 / fan_in);
    CHECK(largest <= bound);
    CHECK(largest >= 0.99 * bound);
    CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
  }
  SUBCASE("xavier_uniform: U(-sqrt(6 / (fan_in + fan_out)), ...)") {
    const auto [std, largest] =
        spread(parameter(*mlp_with({{"linear", "xavier_uniform"}}), "fc0.weight"));
    const double bound = std::sqrt(6 / (fan_in + fan_out));
    CHECK(largest <= bound);
    CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
  }
  SUBCASE("xavier_normal: std sqrt(2 / (fan_in + fan_out))") {
    const auto model = mlp_with({{"linear", "xavier_normal"}});
    CHECK(spread(parameter(*model, "fc0.weight")).first ==
          doctest::Approx(std::sqrt(2 / (fan_in + fan_out))).epsilon(0.03));
  }
  SUBCASE("normal: mean 0 and normal_std") {
    const auto weight =
        parameter(*mlp_with({{"linear", "normal"}, {"normal_std", 0.05}}), "fc0.weight");
    CHECK(spread(weight).first == doctest::Approx(0.05).epsilon(0.03));
    CHECK(std::abs(weight.mean().item<double>()) < 0.001);
  }
  SUBCASE("without init: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both") {
    const auto model = mlp_with(json::object());
    const double bound = 1 / std::sqrt(fan_in);
    const auto [std, largest] = spread(parameter(*model, "fc0.weight"));
    CHECK(largest <= bound);
    CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
    CHECK(parameter(*model, "fc0.bias").abs().max().item<double>() > 0);
  }
  SUBCASE("conv2d: fan_in is in_channels x kernel area; other types keep their default") {
    torch::manual_seed(5);
    const auto model =
        build_model(checked({{"architecture", "cnn"},
                             {"layers", json::parse(R"([{"type": "conv2d", "out_channels": 64,
                    "kernel_size": 5}, {"type": "conv2d", "out_channels": 64, "kernel_size": 5},
                    {"type": "flatten"}])")},
                             {"init", {{"conv2d", "kaiming_normal"}}}}),
                    info_of({20, 20}));
    CHECK(spread(parameter(*model, "layers.1.weight")).first ==
          doctest::Approx(std::sqrt(2.0 / (64 * 25))).epsilon(0.03));
    CHECK(parameter(*model, "layers.1.bias").abs().max().item<double>() == 0);
    CHECK(parameter(*model, "output.bias").abs().max().item<double>() > 0);
  }
  SUBCASE("lstm: every recurrent matrix, biases 0") {
    torch::manual_seed(5);
    const auto model = build_model(checked({{"architecture", "lstm"},
                                            {"hidden_size", 100},
                                            {"init", {{"lstm", "xavier_uniform"}}}}),
                                   info_of({10, 300}));
    const double bound = std::sqrt(6.0 / (300 + 400));
    const auto [std, largest] = spread(parameter(*model, "rnn.weight_ih_l0"));
    CHECK(largest <= bound);
    CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
    CHECK(spread(parameter(*model, "rnn.weight_hh_l0")).second <= std::sqrt(6.0 / 500));
    CHECK(parameter(*model, "rnn.bias_hh_l0").abs().max().item<double>() == 0);
  }
  SUBCASE("attention: the transformer's projections") {
    torch::manual_seed(5);
    const auto model = build_model(checked({{"architecture", "transformer"},
                                            {"d_model", 8},
                                            {"nhead", 2},
                                            {"num_layers", 1},
                                            {"dim_feedforward", 8},
                                            {"init", {{"attention", "zeros"}}}}),
                                   info_of({4, 4}));
    CHECK(parameter(*model, "layers.0.self_attn.in_proj_weight").abs().max().item<double>() == 0);
    CHECK(parameter(*model, "layers.0.self_attn.out_proj.weight").abs().max().item<double>() == 0);
    CHECK(parameter(*model, "layers.0.linear1.weight").abs().max().item<double>() > 0);
  }
}

TEST_CASE("build_model refuses layers that do not chain, naming the key and the reason") {
  const auto cnn = [](const char* layers) {
    return json{{"architecture", "cnn"}, {"layers", json::parse(layers)}};
  };
  SUBCASE("a kernel larger than its input") {
    CHECK(build_error(cnn(R"([{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                              {"type": "max_pool2d", "kernel_size": 2},
                              {"type": "conv2d", "out_channels": 2, "kernel_size": 5},
                              {"type": "flatten"}])"),
                      {8, 8}) ==
          "model.layers[2].kernel_size: 5 is larger than the 3x3 input of "
          "this layer");
    CHECK(build_error(cnn(R"([{"type": "avg_pool2d", "kernel_size": 9, "padding": 0},
                              {"type": "flatten"}])"),
                      {8, 6}) ==
          "model.layers[0].kernel_size: 9 is larger than the 8x6 input of "
          "this layer");
    CHECK(build_error(cnn(R"([{"type": "conv2d", "out_channels": 2, "kernel_size": 9,
                               "padding": 1}, {"type": "flatten"}])"),
                      {6, 6}) ==
          "model.layers[0].kernel_size: 9 is larger than the 6x6 input of "
          "this layer padded by 1");
  }
  SUBCASE("a pool padded by more than half its kernel") {
    CHECK(build_error(cnn(R"([{"type": "max_pool2d", "kernel_size": 2, "padding": 2},
                              {"type": "flatten"}])"),
                      {8, 8}) == "model.layers[0].padding: 2 is more than half the kernel size 2");
  }
  SUBCASE("a linear layer on an image") {
    CHECK(build_error(cnn(R"([{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                              {"type": "relu"}, {"type": "linear", "out_features": 4}])"),
                      {8, 8}) ==
          "model.layers[2]: linear needs a flat input, but its input is "
          "2x6x6 (channels x height x width); put a flatten layer before "
          "it");
  }
  SUBCASE("a convolution after flatten") {
    CHECK(build_error(cnn(R"([{"type": "flatten"},
                              {"type": "conv2d", "out_channels": 2, "kernel_size": 3}])"),
                      {8, 8}) ==
          "model.layers[1]: conv2d needs an image (channels x height x "
          "width), but its input is 64 flat features; remove the flatten "
          "or linear layer before it");
  }
  SUBCASE("an image left for the output layer") {
    CHECK(
        build_error(cnn(R"([{"type": "conv2d", "out_channels": 2, "kernel_size": 3}])"), {8, 8}) ==
        "model.layers: the last layer gives 2x6x6 (channels x height x "
        "width), but the output layer mlc appends needs a flat input; "
        "end with a flatten layer");
  }
  SUBCASE("a cnn on a table") {
    CHECK(build_error(cnn(R"([{"type": "flatten"}])"), {13}) ==
          "model.architecture: cnn needs images (height x width, or channels x height x width), "
          "but the samples have shape 13");
  }
  SUBCASE("an unknown layer type in a config made in code") {
    const json model = {{"architecture", "cnn"}, {"layers", {{{"type", "conv3d"}}}}};
    CHECK_THROWS_WITH_AS(build_model(model, info_of({8, 8})),
                         "model.layers[0].type: unknown layer type 'conv3d'", mlc::Error);
  }
  const auto transformer = [](json extra) {
    json model = {{"architecture", "transformer"},
                  {"d_model", 64},
                  {"nhead", 4},
                  {"num_layers", 1},
                  {"dim_feedforward", 8}};
    model.update(extra);
    return model;
  };
  SUBCASE("an init scheme for a layer type the model does not have") {
    CHECK(build_error({{"architecture", "gru"}, {"hidden_size", 4}, {"init", {{"lstm", "zeros"}}}},
                      {8, 8}) == "model.init.lstm: the model has no lstm layers");
    json flat = cnn(R"([{"type": "flatten"}])");
    flat["init"] = {{"conv2d", "zeros"}};
    CHECK(build_error(flat, {8, 8}) == "model.init.conv2d: the model has no conv2d layers");
  }
  SUBCASE("heads that do not divide the model width") {
    CHECK(build_error(transformer({{"nhead", 3}}), {8, 8}) ==
          "model.nhead: 3 heads do not divide d_model 64");
  }
  SUBCASE("patches that do not tile the image") {
    CHECK(build_error(transformer({{"patch_size", 3}}), {8, 8}) ==
          "model.patch_size: 3 does not divide the 8x8 input");
    CHECK(build_error(transformer({{"patch_size", 16}}), {8, 8}) ==
          "model.patch_size: 16 is larger than the 8x8 input");
    CHECK(build_error(transformer({{"patch_size", 2}}), {8}) ==
          "model.patch_size: patches need images (height x width), but the samples have shape 8");
  }
}

TEST_CASE("a training batch of one sample leaves batch norm's running statistics finite and as they were") {
  // ATen would update the running variance with 0/0 (a last batch of 1, or a data-parallel rank's
  // shard of 1); the batch is normalised by its own statistics instead.
  const std::pair<const char*, json> models[] = {
      {"mlp", checked({{"architecture", "mlp"}, {"hidden_layers", {6}}, {"batch_norm", true}})},
      {"cnn, batch norm on flat features",
       checked({{"architecture", "cnn"},
                {"layers", {{{"type", "flatten"}}, {{"type", "linear"}, {"out_features", 6}}, {{"type", "batch_norm"}}}}})},
  };
  for (const auto& [name, config] : models) {
    CAPTURE(name);
    torch::manual_seed(3);
    const auto model = build_model(config, info_of({4, 4}));
    model->train(true);
    model->forward(sample_batch({4, 4}, 4));  // a batch that updates the statistics
    std::vector<torch::Tensor> before;
    for (const auto& buffer : model->named_buffers()) before.push_back(buffer.value().clone());
    const torch::Tensor outputs = model->forward(sample_batch({4, 4}, 1));
    CHECK(torch::isfinite(outputs).all().item<bool>());
    size_t i = 0;
    for (const auto& buffer : model->named_buffers()) {
      CAPTURE(buffer.key());
      CHECK(torch::isfinite(buffer.value()).all().item<bool>());
      if (buffer.key().find("running") != std::string::npos) CHECK(torch::equal(buffer.value(), before[i]));
      ++i;
    }
  }
}
