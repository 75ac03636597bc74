#include "torch_doctest.hpp"  // first: see why there

#include <onnx/onnx_pb.h>
#include <torch/utils.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "architectures/architectures.hpp"
#include "compute_fixtures.hpp"
#include "mlc/json_schema.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"
#include "onnx_export.hpp"
#include "onnx_graph.hpp"

using mlc::compute::ModelInfo;
using mlc::compute::RecurrentCell;
using nlohmann::json;

namespace {

ModelInfo info_of(std::vector<int64_t> shape) {
  ModelInfo info;
  info.class_names = {"a", "b", "c"};
  info.input_shape = std::move(shape);
  info.input_description = "raw values, FP32";
  info.standardization = {mlc::compute::StandardizeScope::global, {100.0F}, {50.0F}};
  return info;
}

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

struct Example {
  const char* name;
  json model;
  std::vector<int64_t> input_shape;
};

// Every architecture, and each option that changes the graph.
std::vector<Example> examples() {
  const json cnn_layers = json::parse(R"([
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
    {"type": "batch_norm"}, {"type": "relu"}, {"type": "max_pool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 6, "kernel_size": 2, "stride": 2, "bias": false},
    {"type": "gelu"}, {"type": "avg_pool2d", "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "dropout", "p": 0.25}, {"type": "tanh"}, {"type": "flatten"},
    {"type": "linear", "out_features": 7}, {"type": "batch_norm"}, {"type": "sigmoid"}])");
  return {
      {"mlp with batch norm",
       checked({{"architecture", "mlp"}, {"hidden_layers", {6, 5}}, {"batch_norm", true}}),
       {8, 8}},
      {"cnn", checked({{"architecture", "cnn"}, {"layers", cnn_layers}}), {8, 8}},
      {"cnn over channels", checked({{"architecture", "cnn"}, {"layers", cnn_layers}}), {2, 8, 8}},
      {"lstm", checked({{"architecture", "lstm"}, {"hidden_size", 5}}), {8, 8}},
      {"lstm, 2 bidirectional layers, mean pooling",
       checked({{"architecture", "lstm"}, {"hidden_size", 5}, {"num_layers", 2},
                {"bidirectional", true}, {"pooling", "mean"}}),
       {8, 8}},
      {"gru over a table", checked({{"architecture", "gru"}, {"hidden_size", 4}}), {6}},
      {"gru, 2 bidirectional layers",
       checked({{"architecture", "gru"}, {"hidden_size", 4}, {"num_layers", 2},
                {"bidirectional", true}}),
       {8, 8}},
      {"transformer over rows",
       checked({{"architecture", "transformer"}, {"d_model", 8}, {"nhead", 2}, {"num_layers", 2},
                {"dim_feedforward", 16}}),
       {8, 8}},
      {"transformer over patches, class token, pre-norm, gelu",
       checked({{"architecture", "transformer"}, {"d_model", 12}, {"nhead", 3}, {"num_layers", 1},
                {"dim_feedforward", 10}, {"patch_size", 4}, {"pooling", "cls"},
                {"positional_encoding", "sinusoidal"}, {"norm_first", true},
                {"activation", "gelu"}}),
       {8, 8}},
  };
}

std::vector<int64_t> dims(const onnx::ValueInfoProto& value) {
  std::vector<int64_t> extents;
  for (const auto& dim : value.type().tensor_type().shape().dim()) {
    extents.push_back(dim.has_dim_param() ? -1 : dim.dim_value());
  }
  return extents;
}

}  // namespace

TEST_CASE("onnx_model") {
  for (const Example& example : examples()) {
    SUBCASE(example.name) {
      for (const auto task : {mlc::compute::Task::classification, mlc::compute::Task::regression}) {
        CAPTURE(static_cast<int>(task));
        ModelInfo info = info_of(example.input_shape);
        info.task = task;
        const auto model = mlc::compute::build_model(example.model, info);
        model->eval();
        // onnx_model runs libonnx's checker and strict shape inference: it throws if they fail.
        const mlc::compute::OnnxModel onnx = mlc::compute::onnx_model(*model, info);
        onnx::ModelProto proto;
        REQUIRE(proto.ParseFromString(onnx.bytes));
        CHECK(proto.ir_version() == 8);
        REQUIRE(proto.opset_import_size() == 1);
        CHECK(proto.opset_import(0).version() == 17);
        CHECK(proto.graph().node_size() == onnx.nodes);
        REQUIRE(proto.graph().input_size() == 1);
        REQUIRE(proto.graph().output_size() == 1);
        CHECK(proto.graph().input(0).name() == "input");
        std::vector<int64_t> input = {-1};
        input.insert(input.end(), example.input_shape.begin(), example.input_shape.end());
        CHECK(dims(proto.graph().input(0)) == input);
        const bool regression = task == mlc::compute::Task::regression;
        CHECK(proto.graph().output(0).name() == (regression ? "prediction" : "logits"));
        CHECK(dims(proto.graph().output(0)) == std::vector<int64_t>{-1, regression ? 1 : 3});
      }
    }
  }
}

TEST_CASE("onnx_model of a table: missing values filled, categories one-hot encoded") {
  ModelInfo info;
  info.class_names = {"a", "b"};
  info.feature_names = {"x", "colour", "y"};
  info.input_shape = {3};
  info.columns.names = info.feature_names;
  info.columns.categories = {{}, {"red", "green"}, {}};
  info.fill = {1.5F, -2.0F};
  info.standardization = {mlc::compute::StandardizeScope::per_feature, {1.0F, 2.0F}, {3.0F, 4.0F}};
  const auto model = mlc::compute::build_model(
      checked({{"architecture", "mlp"}, {"hidden_layers", {4}}}), info);
  model->eval();
  const mlc::compute::OnnxModel onnx = mlc::compute::onnx_model(*model, info);
  onnx::ModelProto proto;
  REQUIRE(proto.ParseFromString(onnx.bytes));
  std::vector<std::string> ops;
  for (const auto& node : proto.graph().node()) ops.push_back(node.op_type());
  CHECK(ops == std::vector<std::string>{"Gather", "IsNaN", "Where", "Sub", "Div", "Gather", "Equal",
                                        "Cast", "Concat", "Reshape", "Gemm", "Relu", "Gemm"});
}

namespace {

// torch.nn.LSTM's flat weights for one layer and direction, drawn at random.
std::vector<torch::Tensor> flat_weights(int64_t gates, int64_t input, int64_t hidden) {
  return {torch::randn({gates * hidden, input}), torch::randn({gates * hidden, hidden}),
          torch::randn({gates * hidden}), torch::randn({gates * hidden})};
}

torch::Tensor linear_rows(const torch::Tensor& x, const torch::Tensor& matrix, int64_t gate,
                          int64_t hidden) {
  return torch::matmul(x, matrix.slice(0, gate * hidden, (gate + 1) * hidden).t());
}

torch::Tensor bias_rows(const torch::Tensor& bias, int64_t gate, int64_t hidden) {
  return bias.slice(0, gate * hidden, (gate + 1) * hidden);
}

}  // namespace

// ONNX's equations (the operator specs of LSTM and GRU, linear_before_reset = 1), computed here on
// the reordered weights, against torch::lstm / torch::gru on the original ones.
TEST_CASE("onnx_recurrent_weights") {
  torch::manual_seed(3);
  const int64_t input_size = 3, hidden = 2, steps = 4;
  const torch::Tensor x = torch::randn({1, steps, input_size});
  SUBCASE("LSTM: torch's i, f, g, o as ONNX's i, o, f, c") {
    const auto weights = flat_weights(4, input_size, hidden);
    const auto onnx = mlc::compute::onnx_recurrent_weights(RecurrentCell::lstm, weights, 0, 1);
    REQUIRE(onnx.input.sizes() == torch::IntArrayRef{1, 4 * hidden, input_size});
    REQUIRE(onnx.bias.sizes() == torch::IntArrayRef{1, 8 * hidden});
    const torch::Tensor w = onnx.input[0], r = onnx.recurrent[0];
    const torch::Tensor wb = onnx.bias[0].slice(0, 0, 4 * hidden);
    const torch::Tensor rb = onnx.bias[0].slice(0, 4 * hidden);
    torch::Tensor h = torch::zeros({1, hidden}), c = torch::zeros({1, hidden});
    const auto gate = [&](const torch::Tensor& xt, int64_t g) {
      return linear_rows(xt, w, g, hidden) + linear_rows(h, r, g, hidden) +
             bias_rows(wb, g, hidden) + bias_rows(rb, g, hidden);
    };
    for (int64_t t = 0; t < steps; ++t) {
      const torch::Tensor xt = x.select(1, t);
      const torch::Tensor i = torch::sigmoid(gate(xt, 0)), o = torch::sigmoid(gate(xt, 1)),
                          f = torch::sigmoid(gate(xt, 2)), candidate = torch::tanh(gate(xt, 3));
      c = f * c + i * candidate;
      h = o * torch::tanh(c);
    }
    const torch::Tensor h0 = torch::zeros({1, 1, hidden});
    const auto [outputs, hn, cn] =
        torch::lstm(x, {h0, h0}, weights, true, 1, 0.0, false, false, true);
    CHECK((hn[0] - h).abs().max().item<double>() < 1e-6);
  }
  SUBCASE("GRU: torch's r, z, n as ONNX's z, r, h") {
    const auto weights = flat_weights(3, input_size, hidden);
    const auto onnx = mlc::compute::onnx_recurrent_weights(RecurrentCell::gru, weights, 0, 1);
    REQUIRE(onnx.recurrent.sizes() == torch::IntArrayRef{1, 3 * hidden, hidden});
    const torch::Tensor w = onnx.input[0], r = onnx.recurrent[0];
    const torch::Tensor wb = onnx.bias[0].slice(0, 0, 3 * hidden);
    const torch::Tensor rb = onnx.bias[0].slice(0, 3 * hidden);
    torch::Tensor h = torch::zeros({1, hidden});
    for (int64_t t = 0; t < steps; ++t) {
      const torch::Tensor xt = x.select(1, t);
      const auto gate = [&](int64_t g) {
        return linear_rows(xt, w, g, hidden) + linear_rows(h, r, g, hidden) +
               bias_rows(wb, g, hidden) + bias_rows(rb, g, hidden);
      };
      const torch::Tensor z = torch::sigmoid(gate(0)), reset = torch::sigmoid(gate(1));
      const torch::Tensor candidate = torch::tanh(
          linear_rows(xt, w, 2, hidden) + bias_rows(wb, 2, hidden) +
          reset * (linear_rows(h, r, 2, hidden) + bias_rows(rb, 2, hidden)));
      h = (1 - z) * candidate + z * h;
    }
    const auto [outputs, hn] =
        torch::gru(x, torch::zeros({1, 1, hidden}), weights, true, 1, 0.0, false, false, true);
    CHECK((hn[0] - h).abs().max().item<double>() < 1e-6);
  }
  SUBCASE("two directions stack; a layer past the weights is an internal error") {
    std::vector<torch::Tensor> weights = flat_weights(3, input_size, hidden);
    const auto backward = flat_weights(3, input_size, hidden);
    weights.insert(weights.end(), backward.begin(), backward.end());
    const auto onnx = mlc::compute::onnx_recurrent_weights(RecurrentCell::gru, weights, 0, 2);
    CHECK(onnx.input.sizes() == torch::IntArrayRef{2, 3 * hidden, input_size});
    CHECK(torch::equal(onnx.input[1].slice(0, 0, hidden), backward[0].slice(0, hidden, 2 * hidden)));
    CHECK_THROWS_WITH(
        mlc::compute::onnx_recurrent_weights(RecurrentCell::gru, weights, 1, 2),
        "recurrent layer 1 direction 0: only 8 weight tensors");
  }
}

TEST_CASE("export_variant onnx: the file checked and written, the fp32 export measured beside it") {
  mlc::test::TempDir dir;
  nlohmann::json config = mlc::test::wine_config();
  config["training"]["epochs"] = 2;
  const mlc::TrainedModel model = mlc::test::train_model(config, dir);
  mlc::VariantRequest request;
  request.model = model;
  request.data = model.config["data"];
  request.kind = mlc::VariantKind::onnx;
  request.out = dir.path() / "out" / "wine.onnx";
  const mlc::VariantResult result = mlc::test::backend().export_variant(request);
  CHECK(result.format == "onnx");
  CHECK(result.details["opset"] == 17);
  CHECK(result.details["preprocessing"] == "inside");
  CHECK(result.samples == 36);
  CHECK(result.metadata.inputs[0]["name"] == "input");
  CHECK(result.metadata.outputs[0]["name"] == "logits");
  // mlc cannot run it: a size, no metrics, no latency; the fp32 export is measured as always.
  CHECK(result.variant.metrics.empty());
  CHECK_FALSE(result.variant.latency_batch1_ms.has_value());
  CHECK_FALSE(result.variant.latency_batch64_ms.has_value());
  CHECK(result.fp32.metrics.count("accuracy") == 1);
  CHECK(result.fp32.latency_batch64_ms.has_value());
  REQUIRE(std::filesystem::exists(request.out));
  CHECK(result.variant.size_bytes == static_cast<int64_t>(std::filesystem::file_size(request.out)));
  onnx::ModelProto proto;
  REQUIRE(proto.ParseFromString(mlc::test::read_file(request.out)));
  CHECK(proto.graph().node_size() == result.details["nodes"].get<int64_t>());
}
