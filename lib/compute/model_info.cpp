#include "model_info.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

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

// The training values of input column `column`, missing ones left out.
std::vector<double> present_values(const data::Samples& train, int64_t column) {
  std::vector<double> values;
  const auto width = static_cast<size_t>(train.feature_count());
  for (size_t i = static_cast<size_t>(column); i < train.features.size(); i += width) {
    if (!std::isnan(train.features[i])) values.push_back(train.features[i]);
  }
  return values;
}

double median_of(std::vector<double> values) {
  const size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle), values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1) return upper;
  return (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle)) +
          upper) / 2;
}

// Imputation values and scaling of every numeric column, from the training split: the scaling
// is fitted on the imputed values, as a scikit-learn pipeline of imputer then scaler does.
void fit_table_preprocessing(ModelInfo& info, const data::Samples& train, double fill_value) {
  info.standardization = {StandardizeScope::per_feature, {}, {}};
  for (int64_t column : numeric_columns(info)) {
    const std::string& name = info.feature_names.at(static_cast<size_t>(column));
    std::vector<double> values = present_values(train, column);
    if (values.empty() && info.impute != "constant") {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("data: column '{}' has no values in the training split to fit '{}' on",
                              name, info.impute));
    }
    double fill = fill_value;
    if (info.impute == "mean" || info.impute == "drop_row") {
      fill = values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) /
                                      static_cast<double>(values.size());
    } else if (info.impute == "median") {
      fill = median_of(values);
    }
    const int64_t missing = train.count() - static_cast<int64_t>(values.size());
    values.insert(values.end(), static_cast<size_t>(missing), fill);
    info.fill.push_back(static_cast<float>(fill));
    float offset = 0;
    float scale = 1;
    if (info.scaling == "standard") {
      Moments moments;
      for (double value : values) moments.add(static_cast<float>(value));
      offset = moments.mean();
      scale = moments.stddev();
    } else if (info.scaling == "minmax") {
      const auto [low, high] = std::minmax_element(values.begin(), values.end());
      offset = static_cast<float>(*low);
      scale = *high > *low ? static_cast<float>(*high - *low) : 1.0F;
    }
    info.standardization.mean.push_back(offset);
    info.standardization.stddev.push_back(scale);
  }
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
  const nlohmann::json& data = config.at("data");
  const std::string data_format = data.value("format", "");
  ModelInfo info;
  info.task = splits.train.values.empty() ? Task::classification : Task::regression;
  info.class_names = splits.class_names;
  info.target = splits.target;
  info.feature_names = splits.feature_names;
  info.input_shape = splits.train.sample_shape;
  info.input_description = describe_input(data_format, info.input_shape);
  if (data_format == "idx") {
    info.standardization = fit_standardization(splits.train, StandardizeScope::global);
    return info;
  }
  info.columns = splits.columns;
  const nlohmann::json impute = data.value("impute", nlohmann::json{{"strategy", "mean"}});
  info.impute = impute.value("strategy", "mean");
  info.scaling = data.value("scaling", "standard");
  fit_table_preprocessing(info, splits.train, impute.value("fill_value", 0.0));
  return info;
}

int64_t feature_count(const ModelInfo& info) {
  return std::accumulate(info.input_shape.begin(), info.input_shape.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

int64_t output_width(const ModelInfo& info) {
  return info.task == Task::regression ? 1 : static_cast<int64_t>(info.class_names.size());
}

std::vector<int64_t> numeric_columns(const ModelInfo& info) {
  std::vector<int64_t> columns;
  for (size_t i = 0; i < info.feature_names.size(); ++i) {
    if (info.columns.categories.empty() || info.columns.categories[i].empty()) {
      columns.push_back(static_cast<int64_t>(i));
    }
  }
  return columns;
}

OneHot one_hot_outputs(const ModelInfo& info) {
  OneHot one_hot;
  for (size_t i = 0; i < info.columns.categories.size(); ++i) {
    for (size_t code = 0; code < info.columns.categories[i].size(); ++code) {
      one_hot.columns.push_back(static_cast<int64_t>(i));
      one_hot.codes.push_back(static_cast<float>(code));
    }
  }
  return one_hot;
}

namespace {

nlohmann::json table_steps(const ModelInfo& info) {
  std::vector<std::string> numeric;
  for (int64_t column : numeric_columns(info)) numeric.push_back(info.feature_names[static_cast<size_t>(column)]);
  auto steps = nlohmann::json::array();
  steps.push_back({{"op", "impute"}, {"strategy", info.impute}, {"columns", numeric}, {"values", info.fill}});
  const Standardization& scaling = info.standardization;
  if (info.scaling == "minmax") {
    steps.push_back({{"op", "minmax"}, {"columns", numeric}, {"min", scaling.mean}, {"range", scaling.stddev}});
  } else if (info.scaling == "standard") {
    steps.push_back({{"op", "standardize"}, {"scope", "per_feature"}, {"columns", numeric},
                     {"mean", scaling.mean}, {"std", scaling.stddev}});
  }
  auto encoded = nlohmann::json::array();
  for (size_t i = 0; i < info.columns.categories.size(); ++i) {
    if (!info.columns.categories[i].empty()) {
      encoded.push_back({{"name", info.feature_names[i]}, {"categories", info.columns.categories[i]}});
    }
  }
  if (!encoded.empty()) steps.push_back({{"op", "one_hot"}, {"columns", encoded}});
  return steps;
}

// Reads table_steps, or the single per-feature standardize step of mlc 0.1.
void table_steps_from_json(const nlohmann::json& steps, ModelInfo& info) {
  const size_t width = info.feature_names.size();
  info.columns.names = info.feature_names;
  info.columns.categories.assign(width, {});
  info.scaling = "none";
  bool scaled = false;
  for (const auto& step : steps) {
    const auto op = field<std::string>(step, "op");
    if (op == "impute") {
      info.impute = field<std::string>(step, "strategy");
      info.fill = field<std::vector<float>>(step, "values");
    } else if (op == "standardize" || op == "minmax") {
      info.scaling = op == "minmax" ? "minmax" : "standard";
      info.standardization.scope = StandardizeScope::per_feature;
      info.standardization.mean = field<std::vector<float>>(step, op == "minmax" ? "min" : "mean");
      info.standardization.stddev = field<std::vector<float>>(step, op == "minmax" ? "range" : "std");
      scaled = true;
    } else if (op == "one_hot") {
      for (const auto& column : field<nlohmann::json>(step, "columns")) {
        const auto name = field<std::string>(column, "name");
        const auto found = std::find(info.feature_names.begin(), info.feature_names.end(), name);
        if (found == info.feature_names.end()) {
          throw Error(ErrorKind::invalid_input, fmt::format("model_info: one_hot column '{}' is not a feature", name));
        }
        info.columns.categories[static_cast<size_t>(found - info.feature_names.begin())] =
            field<std::vector<std::string>>(column, "categories");
      }
    } else {
      throw Error(ErrorKind::invalid_input, fmt::format("model_info: unknown preprocessing op '{}'", op));
    }
  }
  const size_t numeric = numeric_columns(info).size();
  if (info.fill.empty()) info.fill.assign(numeric, 0.0F);
  if (!scaled) {
    info.standardization = {StandardizeScope::per_feature, std::vector<float>(numeric, 0.0F),
                            std::vector<float>(numeric, 1.0F)};
  }
  if (info.fill.size() != numeric || info.standardization.mean.size() != numeric ||
      info.standardization.stddev.size() != numeric) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("model_info: preprocessing needs {} values per numeric step", numeric));
  }
  for (float value : info.standardization.stddev) {
    if (!(value > 0)) throw Error(ErrorKind::invalid_input, "model_info: standardize std must be > 0");
  }
}

}  // namespace

nlohmann::json to_json(const ModelInfo& info) {
  const bool table = !info.feature_names.empty();
  nlohmann::json steps = table ? table_steps(info) : nlohmann::json::array();
  if (!table) {
    steps.push_back({{"op", "standardize"},
                     {"scope", "global"},
                     {"mean", info.standardization.mean},
                     {"std", info.standardization.stddev}});
  }
  nlohmann::json json = {
      {"task", info.task == Task::regression ? "regression" : "classification"},
      {"input_shape", info.input_shape},
      {"preprocessing", {{"input", info.input_description}, {"steps", steps}, {"applied_by", "model"}}}};
  if (info.task == Task::classification) json["class_names"] = info.class_names;
  if (!info.target.empty()) json["target"] = info.target;
  if (table) json["feature_names"] = info.feature_names;
  return json;
}

ModelInfo model_info_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw Error(ErrorKind::invalid_input, "model_info: expected an object");
  ModelInfo info;
  info.task = json.value("task", "classification") == "regression" ? Task::regression
                                                                    : Task::classification;
  if (info.task == Task::classification) {
    info.class_names = field<std::vector<std::string>>(json, "class_names");
  }
  info.target = json.value("target", "");
  if (json.contains("feature_names")) {
    info.feature_names = field<std::vector<std::string>>(json, "feature_names");
  }
  info.input_shape = field<std::vector<int64_t>>(json, "input_shape");
  if ((info.task == Task::classification && info.class_names.empty()) || info.input_shape.empty()) {
    throw Error(ErrorKind::invalid_input,
                "model_info: class_names and input_shape must not be empty");
  }
  const auto preprocessing = field<nlohmann::json>(json, "preprocessing");
  info.input_description = field<std::string>(preprocessing, "input");
  if (info.feature_names.empty()) {
    info.standardization = standardization_from_json(preprocessing, feature_count(info));
  } else {
    table_steps_from_json(field<nlohmann::json>(preprocessing, "steps"), info);
  }
  return info;
}

}  // namespace mlc::compute
