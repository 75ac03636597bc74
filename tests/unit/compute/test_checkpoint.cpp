#include "torch_doctest.hpp"  // first: see why there

#include <torch/utils.h>

#include "checkpoint.hpp"
#include "compute_fixtures.hpp"
#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

using mlc::compute::build_model;
using mlc::compute::load_checkpoint;
using mlc::compute::save_checkpoint;
using mlc::test::TempDir;

namespace {

mlc::compute::ModelInfo image_info() {
  mlc::compute::ModelInfo info;
  info.class_names = {"0", "1", "2", "3"};
  info.input_shape = {3, 3};
  info.input_description = "raw pixel intensities 0..255, FP32, row-major [3,3]";
  info.standardization = {mlc::compute::StandardizeScope::global, {70.0F}, {90.0F}};
  return info;
}

nlohmann::json mlp_config(std::vector<int64_t> hidden_layers) {
  return {{"architecture", "mlp"},
          {"hidden_layers", hidden_layers},
          {"activation", "relu"},
          {"dropout", 0.0}};
}

torch::Tensor logits_of(mlc::compute::ClassifierImpl& model, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  model.eval();
  return model.forward(input);
}

}  // namespace

TEST_CASE("a checkpoint gives back the same model") {
  TempDir dir;
  torch::manual_seed(1);
  const auto saved = build_model(mlp_config({8}), image_info());
  save_checkpoint(*saved, dir / "checkpoint.pt");
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.pt.tmp"));

  torch::manual_seed(2);  // other initial weights, which loading must replace
  const auto loaded = build_model(mlp_config({8}), image_info());
  const torch::Tensor input = torch::rand({6, 3, 3}) * 255;
  CHECK_FALSE(torch::equal(logits_of(*saved, input), logits_of(*loaded, input)));
  load_checkpoint(*loaded, dir / "checkpoint.pt");
  CHECK(torch::equal(logits_of(*saved, input), logits_of(*loaded, input)));

  SUBCASE("through load_trained_model") {
    const nlohmann::json config = {{"model", mlp_config({8})}};
    const auto rebuilt =
        mlc::compute::load_trained_model({config, to_json(image_info()), dir / "checkpoint.pt"});
    CHECK_FALSE(rebuilt->is_training());
    CHECK(torch::equal(logits_of(*saved, input), logits_of(*rebuilt, input)));
  }
}

TEST_CASE("load_checkpoint errors") {
  TempDir dir;
  const auto model = build_model(mlp_config({8}), image_info());

  SUBCASE("a missing file is named") {
    const auto path = dir / "missing.pt";
    try {
      load_checkpoint(*model, path);
      FAIL("load_checkpoint did not throw");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::not_found);
      CHECK(std::string(error.what()) == "checkpoint not found: " + path.string());
    }
  }
  SUBCASE("a checkpoint of another model") {
    save_checkpoint(*build_model(mlp_config({5}), image_info()), dir / "other.pt");
    try {
      load_checkpoint(*model, dir / "other.pt");
      FAIL("load_checkpoint did not throw");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
      CHECK(std::string(error.what())
                .rfind((dir / "other.pt").string() + ": not a checkpoint of this model: ", 0) == 0);
    }
  }
  SUBCASE("a file that is no checkpoint") {
    mlc::test::write_file(dir / "junk.pt", "not a zip archive");
    CHECK_THROWS_AS(load_checkpoint(*model, dir / "junk.pt"), mlc::Error);
  }
}

TEST_CASE("the backend names a missing checkpoint") {
  TempDir dir;
  const mlc::TrainedModel trained = mlc::test::train_model(mlc::test::wine_config(), dir);
  std::filesystem::remove(trained.checkpoint);
  const std::string expected = "checkpoint not found: " + trained.checkpoint.string();
  CHECK_THROWS_WITH_AS(mlc::test::backend().evaluate(trained, trained.config["data"]),
                       expected.c_str(), mlc::Error);
  CHECK_THROWS_WITH_AS(mlc::test::backend().export_torchscript(trained, dir / "model.pt"),
                       expected.c_str(), mlc::Error);
}
