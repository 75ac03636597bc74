// Raw table cells -> the FP32 row an exported table model takes, as training encoded them.
//
// Exported table models take one FP32 value per feature column: the number, NaN for a missing
// cell, and for a categorical column the index of its category among the training split's sorted
// categories (NaN for a category training never saw, as evaluation reads one). This is the one
// place that turns a user's strings into that row, for `mlc predict --input` and for the BYTES
// tensors `mlc serve` accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlc::compute {

class TableEncoding {
 public:
  // From a manifest's (or model_info's) "feature_names" and "preprocessing" (its one_hot step
  // names the categorical columns and their categories). Empty for image models.
  // `missing_values`: the cells read as missing (the train config's data.missing_values).
  static TableEncoding from_description(const nlohmann::json& description,
                                        std::set<std::string> missing_values = {"", "NA", "NaN"});

  bool empty() const { return names_.empty(); }
  const std::vector<std::string>& feature_names() const { return names_; }
  bool categorical(size_t column) const { return !categories_[column].empty(); }
  // The feature's index by column name, or nullopt.
  std::optional<size_t> column_of(std::string_view name) const;

  // One cell of feature `column`; a numeric cell reads as training read it (data::
  // parse_cell_number). Throws Error(invalid_input) "column 'NAME': 'CELL' is not a number", or
  // "... is not a finite number that fits a 32-bit float", for a numeric column's cell that is
  // not missing; callers prefix where the cell came from (file and line, or the request's input
  // and index).
  float encode(size_t column, std::string_view cell) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::unordered_map<std::string, float>> categories_;  // per column; empty: numeric
  std::set<std::string> missing_;
};

}  // namespace mlc::compute
