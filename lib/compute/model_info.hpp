// What the catalogue records about a trained model (TrainResult::model_info,
// schemas/model-info.schema.json), and the preprocessing fitted on the training split.
//
// No libtorch here: the trainer fills a ModelInfo, model_builder turns one into a module, and
// the JSON form travels through the catalogue to evaluate, export and predict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/data.hpp"

namespace mlc::compute {

// Images get one mean and std over all pixels: per-pixel statistics would divide the border
// pixels, which are almost always 0, by a std near 0 and blow up their rare noise. Table columns
// each have their own unit, so each column gets its own.
enum class StandardizeScope { global, per_feature };

// The scaling step of every model: (x - mean) / stddev, fitted on the training split only. For a
// table's min-max scaling `mean` holds each column's minimum and `stddev` its range; without
// scaling they are 0 and 1. Tables have one value per numeric column.
struct Standardization {
  StandardizeScope scope = StandardizeScope::global;
  std::vector<float> mean;    // one value (global) or one per (numeric) feature, in order
  std::vector<float> stddev;  // same length as mean; never 0 (a constant feature gets 1)
};

enum class Task { classification, regression };

struct ModelInfo {
  Task task = Task::classification;
  std::vector<std::string> class_names;    // classification: index -> name, one logit each
  std::string target;                      // the column a table's model predicts (CSV only)
  std::vector<std::string> feature_names;  // CSV: the feature columns in order; IDX: empty
  std::vector<int64_t> input_shape;        // shape of one raw sample, e.g. {28, 28} or {13}
  std::string input_description;  // what the raw input is, for people reading the catalogue
  // Tables only, in the order the model applies them: missing numeric values imputed (`fill`,
  // one per numeric column), numeric columns scaled (`standardization`), categorical columns
  // one-hot encoded and appended. A table without `columns.categories` is all numeric.
  data::TableColumns columns;
  std::string impute = "mean";       // mean | median | constant | drop_row
  std::vector<float> fill;           // per numeric column
  std::string scaling = "standard";  // standard | minmax | none
  Standardization standardization;
};

// Tables: the input columns that are numeric, and for each one-hot output its input column and
// the category code it matches.
std::vector<int64_t> numeric_columns(const ModelInfo& info);
struct OneHot {
  std::vector<int64_t> columns;
  std::vector<float> codes;
};
OneHot one_hot_outputs(const ModelInfo& info);

// Population mean and std of the training features (in double, so 47M pixels do not drift).
// Throws Error(internal) if `train` is empty: the trainer refuses that earlier, with a better
// message.
Standardization fit_standardization(const data::Samples& train, StandardizeScope scope);

// The ModelInfo of a model about to be trained on `splits` as the train config says, with the
// preprocessing fitted on splits.train.
ModelInfo describe_training_data(const data::Splits& splits, const nlohmann::json& config);

int64_t feature_count(const ModelInfo& info);

// The width of the model's output: one logit per class, or 1 for regression.
int64_t output_width(const ModelInfo& info);

nlohmann::json to_json(const ModelInfo& info);

// Reads what to_json wrote. Throws Error(invalid_input, "model_info: ...") if a field is missing
// or inconsistent (a catalogue entry written by another version or edited by hand).
ModelInfo model_info_from_json(const nlohmann::json& json);

}  // namespace mlc::compute
