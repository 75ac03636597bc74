#include "inference/table_encoding.hpp"

#include <limits>

#include <fmt/format.h>

#include "mlc/data.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

TableEncoding TableEncoding::from_description(const nlohmann::json& description,
                                              std::set<std::string> missing_values) {
  TableEncoding encoding;
  encoding.missing_ = std::move(missing_values);
  const auto names = description.find("feature_names");
  if (names == description.end() || !names->is_array()) return encoding;
  for (const auto& name : *names) encoding.names_.push_back(name.get<std::string>());
  encoding.categories_.resize(encoding.names_.size());
  const auto preprocessing = description.find("preprocessing");
  if (preprocessing == description.end() || !preprocessing->contains("steps")) return encoding;
  for (const auto& step : preprocessing->at("steps")) {
    if (step.value("op", "") != "one_hot") continue;
    for (const auto& column : step.at("columns")) {
      const auto index = encoding.column_of(column.at("name").get<std::string>());
      if (!index) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("preprocessing: one_hot column '{}' is not a feature",
                                column.at("name").get<std::string>()));
      }
      float code = 0;
      for (const auto& category : column.at("categories")) {
        encoding.categories_[*index].emplace(category.get<std::string>(), code++);
      }
    }
  }
  return encoding;
}

std::optional<size_t> TableEncoding::column_of(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return i;
  }
  return std::nullopt;
}

float TableEncoding::encode(size_t column, std::string_view cell) const {
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  const std::string text(cell);
  if (missing_.count(text) > 0) return kMissing;
  if (categorical(column)) {
    const auto code = categories_[column].find(text);
    return code == categories_[column].end() ? kMissing : code->second;
  }
  // As training read the column (data::parse_cell_number), so that a cell it took is taken here.
  double value = 0;
  switch (data::parse_cell_number(text, value)) {
    case data::CellNumber::ok:
      return static_cast<float>(value);
    case data::CellNumber::out_of_range:
      throw Error(ErrorKind::invalid_input,
                  fmt::format("column '{}': '{}' is not a finite number that fits a 32-bit float",
                              names_[column], text));
    case data::CellNumber::not_a_number:
      break;
  }
  throw Error(ErrorKind::invalid_input, fmt::format("column '{}': '{}' is not a number", names_[column], text));
}

}  // namespace mlc::compute
