#include "model_info.hpp"

#include <cmath>
#include <functional>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

const char* scope_name(StandardizeScope scope) {
  return scope == StandardizeScope::global ? "global" : "per_feature";
}

StandardizeScope scope_from_name(const std::string& name) {
  if (name == "global") return StandardizeScope::global;
  if (name == "per_feature") return StandardizeScope::per_feature;
  throw Error(ErrorKind::invalid_input,
              fmt::format("model_info: unknown standardize scope '{}'", name));
}

// Running sums in double: a float accumulator over Fashion-MNIST's 47M pixels loses ~3 digits.
struct Moments {
  double sum = 0;
  double sum_of_squares = 0;
  int64_t count = 0;

  void add(float value) {
    sum += value;
    sum_of_squares += static_cast<double>(value) * value;
    ++count;
  }
  float mean() const { return static_cast<float>(sum / static_cast<double>(count)); }
  // A constant feature gets std 1, so that it standardizes to 0 instead of dividing by zero.
  float stddev() const {
    const double mean_value = sum / static_cast<double>(count);
    const double variance =
        std::max(0.0, sum_of_squares / static_cast<double>(count) - mean_value * mean_value);
    const double deviation = std::sqrt(variance);
    return deviation > 0 ? static_cast<float>(deviation) : 1.0F;
  }
};

std::string describe_input(const std::string& data_format, const std::vector<int64_t>& shape) {
  if (data_format == "idx") {
    return fmt::format("raw pixel intensities 0..255, FP32, row-major [{}]", fmt::join(shape, ","));
  }
  return "raw feature values in the order of feature_names, FP32";
}

template <typename T>
T field(const nlohmann::json& json, const char* key) {
  const auto it = json.find(key);
  if (it == json.end())
    throw Error(ErrorKind::invalid_input, fmt::format("model_info: missing '{}'", key));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::invalid_input, fmt::format("model_info: '{}' has the wrong type", key));
  }
}

Standardization standardization_from_json(const nlohmann::json& preprocessing, int64_t features) {
  const auto steps = field<nlohmann::json>(preprocessing, "steps");
  if (!steps.is_array() || steps.size() != 1 ||
      field<std::string>(steps[0], "op") != "standardize") {
    throw Error(ErrorKind::invalid_input,
                "model_info: preprocessing.steps must be one standardize step");
  }
  Standardization result;
  result.scope = scope_from_name(field<std::string>(steps[0], "scope"));
  result.mean = field<std::vector<float>>(steps[0], "mean");
  result.stddev = field<std::vector<float>>(steps[0], "std");
  const size_t expected =
      result.scope == StandardizeScope::global ? 1 : static_cast<size_t>(features);
  if (result.mean.size() != expected || result.stddev.size() != expected) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("model_info: standardize needs {} mean and std values, found {} and {}",
                            expected, result.mean.size(), result.stddev.size()));
  }
  for (float value : result.stddev) {
    if (!(value > 0))
      throw Error(ErrorKind::invalid_input, "model_info: standardize std must be > 0");
  }
  return result;
}

}  // namespace

Standardization fit_standardization(const data::Samples& train, StandardizeScope scope) {
  if (train.count() == 0) {
    throw Error(ErrorKind::internal, "cannot fit the standardization on an empty training split");
  }
  const auto width = static_cast<size_t>(train.feature_count());
  std::vector<Moments> moments(scope == StandardizeScope::global ? 1 : width);
  for (size_t i = 0; i < train.features.size(); ++i) {
    moments[scope == StandardizeScope::global ? 0 : i % width].add(train.features[i]);
  }
  Standardization result;
  result.scope = scope;
  for (const Moments& feature : moments) {
    result.mean.push_back(feature.mean());
    result.stddev.push_back(feature.stddev());
  }
  return result;
}

ModelInfo describe_training_data(const data::Splits& splits, const nlohmann::json& config) {
  const std::string data_format = config.at("data").value("format", "");
  ModelInfo info;
  info.task = splits.train.values.empty() ? Task::classification : Task::regression;
  info.class_names = splits.class_names;
  info.feature_names = splits.feature_names;
  info.input_shape = splits.train.sample_shape;
  info.input_description = describe_input(data_format, info.input_shape);
  const auto scope =
      data_format == "idx" ? StandardizeScope::global : StandardizeScope::per_feature;
  info.standardization = fit_standardization(splits.train, scope);
  return info;
}

int64_t feature_count(const ModelInfo& info) {
  return std::accumulate(info.input_shape.begin(), info.input_shape.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

int64_t output_width(const ModelInfo& info) {
  return info.task == Task::regression ? 1 : static_cast<int64_t>(info.class_names.size());
}

nlohmann::json to_json(const ModelInfo& info) {
  const Standardization& standardization = info.standardization;
  nlohmann::json step = {{"op", "standardize"},
                         {"scope", scope_name(standardization.scope)},
                         {"mean", standardization.mean},
                         {"std", standardization.stddev}};
  nlohmann::json json = {
      {"class_names", info.class_names},
      {"input_shape", info.input_shape},
      {"preprocessing",
       {{"input", info.input_description}, {"steps", {step}}, {"applied_by", "model"}}}};
  if (!info.feature_names.empty()) json["feature_names"] = info.feature_names;
  return json;
}

ModelInfo model_info_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw Error(ErrorKind::invalid_input, "model_info: expected an object");
  ModelInfo info;
  info.class_names = field<std::vector<std::string>>(json, "class_names");
  if (json.contains("feature_names")) {
    info.feature_names = field<std::vector<std::string>>(json, "feature_names");
  }
  info.input_shape = field<std::vector<int64_t>>(json, "input_shape");
  if (info.class_names.empty() || info.input_shape.empty()) {
    throw Error(ErrorKind::invalid_input,
                "model_info: class_names and input_shape must not be empty");
  }
  const auto preprocessing = field<nlohmann::json>(json, "preprocessing");
  info.input_description = field<std::string>(preprocessing, "input");
  info.standardization = standardization_from_json(preprocessing, feature_count(info));
  return info;
}

}  // namespace mlc::compute
