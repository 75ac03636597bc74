#include "torch_doctest.hpp"  // first: see why there

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include "checkpoint.hpp"
#include "compute_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

using mlc::test::backend;
using mlc::test::TempDir;

namespace {

torch::Tensor run_script(const std::filesystem::path& file, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module = torch::jit::load(file.string());
  module.eval();
  return module.forward({input}).toTensor();
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("export_torchscript writes a module that gives the backend's logits") {
  TempDir dir;
  const mlc::TrainedModel trained = mlc::test::train_model(mlc::test::wine_config(), dir);
  const auto out = dir / "export" / "model.pt";
  const mlc::ExportResult result = backend().export_torchscript(trained, out);

  CHECK(std::filesystem::is_regular_file(out));
  CHECK_FALSE(std::filesystem::exists(dir / "export" / "model.pt.tmp"));
  CHECK(result.inputs ==
        nlohmann::json::parse(R"([{"name":"input","datatype":"FP32","shape":[-1,13]}])"));
  CHECK(result.outputs ==
        nlohmann::json::parse(R"([{"name":"logits","datatype":"FP32","shape":[-1,3]}])"));

  // The raw test rows, as the data library gives them to every other step.
  const auto splits = mlc::data::load_splits(trained.config["data"], mlc::data::split_seed(trained.config), {"0", "1", "2"});
  const auto count = splits.test.count();
  const torch::Tensor features = torch::tensor(splits.test.features).reshape({count, 13});
  const mlc::Predictions predictions = backend().predict(trained, trained.config["data"], 0);
  std::vector<float> flat;
  for (const auto& row : predictions.outputs) flat.insert(flat.end(), row.begin(), row.end());
  const torch::Tensor expected = torch::tensor(flat).reshape({count, 3});

  CHECK(max_difference(run_script(out, features), expected) <= 1e-5);
}

TEST_CASE("export_torchscript writes every activation as the model computes it") {
  for (const char* activation : {"relu", "gelu", "tanh", "sigmoid"}) {
    CAPTURE(activation);
    TempDir dir;
    mlc::compute::ModelInfo info;
    info.class_names = {"a", "b"};
    info.input_shape = {2, 3};
    info.input_description = "raw pixel intensities 0..255, FP32, row-major [2,3]";
    info.standardization = {mlc::compute::StandardizeScope::global, {100.0F}, {50.0F}};
    const nlohmann::json config = {{"model",
                                    {{"architecture", "mlp"},
                                     {"hidden_layers", {5, 4}},
                                     {"activation", activation},
                                     {"dropout", 0.3}}}};
    torch::manual_seed(3);
    const auto model = mlc::compute::build_model(config["model"], info);
    mlc::compute::save_checkpoint(*model, dir / "checkpoint.pt");

    backend().export_torchscript({config, to_json(info), dir / "checkpoint.pt"}, dir / "model.pt");

    const torch::Tensor input = torch::rand({7, 2, 3}) * 255;
    torch::NoGradGuard no_grad;
    model->eval();
    CHECK(max_difference(run_script(dir / "model.pt", input), model->forward(input)) <= 1e-5);
  }
}
