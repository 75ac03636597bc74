#include "torch_doctest.hpp"  // first: see why there

#include <cmath>

#include <torch/utils.h>

#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

using mlc::compute::build_model;
using mlc::compute::fit_standardization;
using mlc::compute::ModelInfo;
using mlc::compute::StandardizeScope;

namespace {

mlc::data::Samples two_by_two_samples() {
  mlc::data::Samples samples;
  samples.sample_shape = {2};
  samples.features = {1, 5, 3, 5, 5, 5};  // feature 0: 1, 3, 5; feature 1: constant 5; all: mean 4
  samples.labels = {0, 1, 0};
  return samples;
}

ModelInfo tabular_info() {
  ModelInfo info;
  info.class_names = {"a", "b", "c"};
  info.feature_names = {"x", "y"};
  info.input_shape = {2};
  info.input_description = "raw feature values in the order of feature_names, FP32";
  info.standardization = fit_standardization(two_by_two_samples(), StandardizeScope::per_feature);
  info.fill = {3, 5};
  return info;
}

nlohmann::json mlp_config(const char* activation) {
  return {{"architecture", "mlp"},
          {"hidden_layers", {4, 3}},
          {"activation", activation},
          {"dropout", 0.5}};
}

}  // namespace

TEST_CASE("fit_standardization") {
  SUBCASE("per feature, with a constant feature scaled by 1") {
    const auto standardization =
        fit_standardization(two_by_two_samples(), StandardizeScope::per_feature);
    CHECK(standardization.mean == std::vector<float>{3, 5});
    CHECK(standardization.stddev[0] == doctest::Approx(std::sqrt(8.0 / 3.0)));
    CHECK(standardization.stddev[1] == 1.0F);
  }
  SUBCASE("global, over every value") {
    const auto standardization =
        fit_standardization(two_by_two_samples(), StandardizeScope::global);
    CHECK(standardization.mean == std::vector<float>{4});
    REQUIRE(standardization.stddev.size() == 1);
    CHECK(standardization.stddev[0] == doctest::Approx(std::sqrt(14.0 / 6.0)));
  }
}

TEST_CASE("model_info survives its JSON form") {
  const ModelInfo info = tabular_info();
  const ModelInfo back = mlc::compute::model_info_from_json(to_json(info));
  CHECK(back.class_names == info.class_names);
  CHECK(back.feature_names == info.feature_names);
  CHECK(back.input_shape == info.input_shape);
  CHECK(back.standardization.mean == info.standardization.mean);
  CHECK(back.standardization.stddev == info.standardization.stddev);

  SUBCASE("a missing field is named") {
    nlohmann::json json = to_json(info);
    json.erase("input_shape");
    CHECK_THROWS_WITH_AS(mlc::compute::model_info_from_json(json),
                         "model_info: missing 'input_shape'", mlc::Error);
  }
  SUBCASE("a standardization of the wrong size is refused") {
    nlohmann::json json = to_json(info);
    json["preprocessing"]["steps"][1]["mean"] = {1.0};
    CHECK_THROWS_WITH_AS(mlc::compute::model_info_from_json(json),
                         "model_info: preprocessing needs 2 values per numeric step", mlc::Error);
  }
  SUBCASE("the single standardize step of mlc 0.1 still reads") {
    nlohmann::json json = to_json(info);
    json["preprocessing"]["steps"] = {json["preprocessing"]["steps"][1]};
    json.erase("task");
    const ModelInfo old = mlc::compute::model_info_from_json(json);
    CHECK(old.standardization.mean == info.standardization.mean);
    CHECK(old.fill == std::vector<float>{0, 0});
    CHECK(old.task == mlc::compute::Task::classification);
  }
}

TEST_CASE("build_model makes an MLP from raw features to logits") {
  torch::manual_seed(0);
  const auto model = build_model(mlp_config("gelu"), tabular_info());
  std::vector<std::string> names;
  for (const auto& parameter : model->named_parameters()) names.push_back(parameter.key());
  CHECK(names == std::vector<std::string>{"fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias",
                                          "fc2.weight", "fc2.bias"});
  std::vector<std::string> buffers;
  for (const auto& buffer : model->named_buffers()) buffers.push_back(buffer.key());
  CHECK(buffers == std::vector<std::string>{"standardize.mean", "standardize.stddev",
                                            "standardize.numeric_columns", "standardize.fill",
                                            "standardize.category_columns",
                                            "standardize.category_codes"});

  const torch::Tensor logits = model->forward(torch::rand({5, 2}));
  CHECK(logits.sizes() == torch::IntArrayRef({5, 3}));

  SUBCASE("dropout only while training") {
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor input = torch::rand({5, 2});
    CHECK(torch::equal(model->forward(input), model->forward(input)));
  }
  SUBCASE("an empty batch") {
    CHECK(model->forward(torch::rand({0, 2})).sizes() == torch::IntArrayRef({0, 3}));
  }
}

TEST_CASE("build_model refuses what it does not know") {
  CHECK_THROWS_WITH_AS(build_model(mlp_config("swish"), tabular_info()),
                       "model.activation: unknown activation 'swish'", mlc::Error);
  nlohmann::json config = mlp_config("relu");
  config["architecture"] = "rnn";
  CHECK_THROWS_WITH_AS(build_model(config, tabular_info()),
                       "model.architecture: unknown architecture 'rnn'", mlc::Error);
}
