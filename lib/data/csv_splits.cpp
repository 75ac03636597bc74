// CSV tables: feature columns (numeric or categorical, cells possibly missing), a target column
// (a class or a number), and the seeded test/validation/train split.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "split_helpers.hpp"

namespace mlc::data::detail {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

// Whole-cell parse: from_chars ignores the locale, unlike strtod. Surrounding spaces and a
// leading '+' are accepted because spreadsheet exports write them.
bool parse_any_number(std::string_view cell, double& value) {
  const auto not_space = cell.find_first_not_of(" \t");
  if (not_space == std::string_view::npos) return false;
  cell = cell.substr(not_space, cell.find_last_not_of(" \t") - not_space + 1);
  if (cell.size() > 1 && cell[0] == '+' && cell[1] != '-') cell.remove_prefix(1);
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return false;
  // Out of a double's range (1e400, 1e-400) is still a number, only not one a model can take;
  // "nan" is not one at all.
  if (error == std::errc::result_out_of_range) value = std::numeric_limits<double>::infinity();
  return (error == std::errc() || error == std::errc::result_out_of_range) && !std::isnan(value);
}

// A number a model can take: finite in a 32-bit float (inf and 1e39 are not).
bool parse_number(std::string_view cell, double& value) {
  return parse_any_number(cell, value) && std::isfinite(value) &&
         std::isfinite(static_cast<float>(value));
}

std::vector<std::string> string_list(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_array() || !std::all_of(it->begin(), it->end(), [](auto& v) { return v.is_string(); })) {
    throw invalid(fmt::format("data config: '{}' must be an array of strings", key));
  }
  return it->get<std::vector<std::string>>();
}

// data.delimiter: absent, the table's own is sniffed (sniff_delimiter).
std::optional<char> delimiter_member(const nlohmann::json& config) {
  const auto it = config.find("delimiter");
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get_ref<const std::string&>().size() != 1 ||
      kCsvDelimiters.find(it->get_ref<const std::string&>()[0]) == std::string_view::npos) {
    throw invalid(fmt::format(
        "data config: 'delimiter' must be one character of \",\", \";\", \"\\t\", \"|\", found {}",
        it->dump()));
  }
  return it->get_ref<const std::string&>()[0];
}

// The settings of the "data" object that shape the table, checked against its header.
struct TableSettings {
  std::filesystem::path path;
  std::string target;
  bool regression = false;
  std::set<std::string> categorical;
  std::set<std::string> ignored;
  std::set<std::string> missing_values;
  bool drop_incomplete_rows = false;
};

std::set<std::string> unique_columns(const std::vector<std::string>& names, const char* key,
                                     const CsvTable& table, const TableSettings& settings) {
  std::set<std::string> unique;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (!unique.insert(name).second) {
      throw invalid(fmt::format("data.{}[{}]: column '{}' is named twice", key, i, name));
    }
    if (std::find(table.header.begin(), table.header.end(), name) == table.header.end()) {
      throw invalid(fmt::format("data.{}[{}]: {} has no column '{}' (columns: {})", key, i,
                                settings.path.string(), name, fmt::join(table.header, ", ")));
    }
    if (name == settings.target) {
      throw invalid(fmt::format("data.{}[{}]: '{}' is the target column", key, i, name));
    }
  }
  return unique;
}

TableSettings table_settings(const nlohmann::json& config, const CsvTable& table) {
  TableSettings settings;
  settings.path = path_member(config, "path");
  const nlohmann::json& target = member(config, "target");
  if (!target.is_string()) throw invalid("data config: 'target' must be a column name");
  settings.target = target.get<std::string>();
  settings.regression = config.value("task", "classification") == "regression";
  const auto missing = config.find("missing_values");
  settings.missing_values = missing == config.end()
                                ? std::set<std::string>{"", "NA", "NaN"}
                                : missing->get<std::set<std::string>>();
  if (const auto impute = config.find("impute"); impute != config.end()) {
    settings.drop_incomplete_rows = impute->value("strategy", "") == "drop_row";
  }
  if (std::find(table.header.begin(), table.header.end(), settings.target) == table.header.end()) {
    throw invalid(fmt::format("{}: no column named '{}' (columns: {})", settings.path.string(),
                              settings.target, fmt::join(table.header, ", ")));
  }
  settings.categorical =
      unique_columns(string_list(config, "categorical"), "categorical", table, settings);
  settings.ignored = unique_columns(string_list(config, "ignore"), "ignore", table, settings);
  for (const auto& name : settings.categorical) {
    if (settings.ignored.count(name) > 0) {
      throw invalid(fmt::format("data.ignore: column '{}' is also listed in data.categorical", name));
    }
  }
  return settings;
}

// Distinct values, in numeric order when every one is a number ("2" before "10"), else in byte
// order.
std::vector<std::string> sorted_distinct(const std::set<std::string>& values) {
  std::vector<std::string> names(values.begin(), values.end());
  std::map<std::string, double> numbers;
  for (const auto& name : names) {
    double value = 0;
    if (!parse_number(name, value)) return names;
    numbers[name] = value;
  }
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return numbers.at(a) < numbers.at(b);
  });
  return names;
}

// One table, read and checked: which file column is which feature, and the rows kept.
class Table {
 public:
  explicit Table(const nlohmann::json& config)
      : table_(read_csv(path_member(config, "path"), delimiter_member(config))),
        settings_(table_settings(config, table_)) {
    for (size_t column = 0; column < table_.header.size(); ++column) {
      const std::string& name = table_.header[column];
      if (name == settings_.target) {
        target_column_ = column;
      } else if (settings_.ignored.count(name) == 0) {
        feature_columns_.push_back(column);
      }
    }
    if (feature_columns_.empty()) {
      throw invalid(fmt::format("{}: no feature columns besides '{}'", path().string(),
                                settings_.target));
    }
    for (size_t row = 0; row < table_.rows.size(); ++row) {
      check_target_present(row);
      if (!settings_.drop_incomplete_rows || complete(row)) rows_.push_back(row);
    }
    if (rows_.empty()) {
      throw invalid(fmt::format("{}: no rows{}", path().string(),
                                table_.rows.empty() ? " after the header"
                                                    : " without missing values (impute: drop_row)"));
    }
  }

  const std::filesystem::path& path() const { return settings_.path; }
  const TableSettings& settings() const { return settings_; }
  size_t row_count() const { return rows_.size(); }

  std::vector<std::string> feature_names() const {
    std::vector<std::string> names;
    for (size_t column : feature_columns_) names.push_back(table_.header[column]);
    return names;
  }

  // The columns as the model will read them, categories taken from `chosen` rows (the training
  // split).
  TableColumns fit_columns(const Indices& chosen) const {
    TableColumns columns;
    columns.names = feature_names();
    for (size_t column : feature_columns_) {
      std::set<std::string> seen;
      if (settings_.categorical.count(table_.header[column]) > 0) {
        for (size_t index : chosen) {
          const std::string& cell = cell_at(index, column);
          if (!missing(cell)) seen.insert(cell);
        }
        if (seen.empty()) {
          throw invalid(fmt::format("{}: categorical column '{}' has no values in the training split",
                                    path().string(), table_.header[column]));
        }
      }
      columns.categories.push_back(sorted_distinct(seen));
    }
    return columns;
  }

  std::vector<std::string> class_names() const {
    std::set<std::string> values;
    for (size_t row : rows_) values.insert(table_.rows[row][target_column_]);
    return sorted_distinct(values);
  }

  // Features of the kept rows `chosen` (indices into the kept rows), encoded as `columns` says.
  std::vector<float> features(const Indices& chosen, const TableColumns& columns) const {
    std::vector<std::map<std::string_view, float>> codes(feature_columns_.size());
    for (size_t i = 0; i < feature_columns_.size(); ++i) {
      for (size_t code = 0; code < columns.categories[i].size(); ++code) {
        codes[i].emplace(columns.categories[i][code], static_cast<float>(code));
      }
    }
    std::vector<float> values;
    values.reserve(chosen.size() * feature_columns_.size());
    for (size_t index : chosen) {
      for (size_t i = 0; i < feature_columns_.size(); ++i) {
        const std::string& cell = cell_at(index, feature_columns_[i]);
        if (missing(cell)) {
          values.push_back(kMissing);
        } else if (!columns.categories[i].empty()) {
          const auto code = codes[i].find(cell);
          values.push_back(code == codes[i].end() ? kMissing : code->second);
        } else {
          values.push_back(number_at(index, feature_columns_[i]));
        }
      }
    }
    return values;
  }

  std::vector<int64_t> labels(const Indices& chosen, const std::vector<std::string>& class_names) const {
    std::map<std::string_view, int64_t> index_of;
    for (size_t i = 0; i < class_names.size(); ++i) index_of.emplace(class_names[i], i);
    std::vector<int64_t> labels;
    for (size_t index : chosen) {
      const std::string& value = cell_at(index, target_column_);
      const auto it = index_of.find(value);
      if (it == index_of.end()) {
        throw invalid(fmt::format("{}:{}: target value '{}' is not one of the model's classes ({})",
                                  path().string(), line_of(index), value, fmt::join(class_names, ", ")));
      }
      labels.push_back(it->second);
    }
    return labels;
  }

  std::vector<float> values(const Indices& chosen) const {
    std::vector<float> values;
    for (size_t index : chosen) values.push_back(number_at(index, target_column_));
    return values;
  }
  // The line in the file of used row `index`.
  int64_t line_of(size_t index) const { return table_.line_numbers[rows_[index]]; }
  // The delimiter the fields were split by, given or sniffed.
  char delimiter() const { return table_.delimiter; }

 private:
  const std::string& cell_at(size_t index, size_t column) const {
    return table_.rows[rows_[index]][column];
  }
  bool missing(const std::string& cell) const { return settings_.missing_values.count(cell) > 0; }

  float number_at(size_t index, size_t column) const {
    const std::string& cell = cell_at(index, column);
    double value = 0;
    if (!parse_number(cell, value)) {
      if (parse_any_number(cell, value)) {
        throw invalid(fmt::format(
            "{}:{}: column '{}': '{}' is not a finite number that fits a 32-bit float",
            path().string(), line_of(index), table_.header[column], cell));
      }
      const bool is_target = column == target_column_;
      throw invalid(fmt::format("{}:{}: column '{}': '{}' is not a number{}", path().string(),
                                line_of(index), table_.header[column], cell,
                                is_target ? " (a regression target must be one)"
                                          : " (list the column in data.categorical if it holds "
                                            "categories)"));
    }
    return static_cast<float>(value);
  }

  void check_target_present(size_t row) const {
    if (missing(table_.rows[row][target_column_])) {
      throw invalid(fmt::format("{}:{}: column '{}': missing target value", path().string(),
                                table_.line_numbers[row], settings_.target));
    }
  }

  bool complete(size_t row) const {
    return std::none_of(feature_columns_.begin(), feature_columns_.end(),
                        [&](size_t column) { return missing(table_.rows[row][column]); });
  }

  CsvTable table_;
  TableSettings settings_;
  size_t target_column_ = 0;
  std::vector<size_t> feature_columns_;
  std::vector<size_t> rows_;  // the table's rows that are used, in file order
};

Samples samples_of(const Table& table, const Indices& chosen, const Splits& splits) {
  Samples samples;
  samples.sample_shape = {static_cast<int64_t>(splits.columns.names.size())};
  samples.features = table.features(chosen, splits.columns);
  if (table.settings().regression) {
    samples.values = table.values(chosen);
  } else {
    samples.labels = table.labels(chosen, splits.class_names);
  }
  return samples;
}

void check_known_columns(const Table& table, const TableColumns& known) {
  const auto names = table.feature_names();
  if (names != known.names) {
    throw invalid(fmt::format("{}: feature columns ({}) differ from the model's ({})",
                              table.path().string(), fmt::join(names, ", "),
                              fmt::join(known.names, ", ")));
  }
}

}  // namespace

Splits load_csv_splits(const nlohmann::json& config, uint64_t seed,
                       const std::vector<std::string>& known_classes,
                       const TableColumns* known_columns) {
  const double test_fraction = fraction_member(config, "test_fraction", 0.2);
  const double validation_fraction = fraction_member(config, "validation_fraction", 0.1);
  const int64_t train_limit = limit_member(config, "train_limit");
  const Table table(config);
  if (known_columns != nullptr) check_known_columns(table, *known_columns);

  Indices pool = shuffled_indices(table.row_count(), seed);
  const Indices test = take_sorted(pool, share_of(test_fraction, pool.size()));
  const Indices validation = take_sorted(pool, share_of(validation_fraction, pool.size()));
  // After the test and validation rows are taken, so that a quick run on fewer training rows is
  // tested and validated on the same rows as a full one; from the shuffled pool, not the file's
  // order, which is often sorted by class (wine.csv's first 59 rows are all class 0).
  const size_t training_count =
      train_limit > 0 ? std::min(pool.size(), static_cast<size_t>(train_limit)) : pool.size();
  const Indices training = take_sorted(pool, training_count);

  Splits splits;
  splits.target = table.settings().target;
  splits.feature_names = table.feature_names();
  if (!table.settings().regression) {
    splits.class_names = known_classes.empty() ? table.class_names() : known_classes;
  }
  splits.columns = known_columns != nullptr ? *known_columns : table.fit_columns(training);
  splits.train = samples_of(table, training, splits);
  splits.validation = samples_of(table, validation, splits);
  splits.test = samples_of(table, test, splits);
  splits.files = {data_file("path", table.path())};
  // The test rows by their line in the file (what drop_row left out is not counted), and the
  // settings that decide what a row's sample is: its label, its missing cells, its fields.
  Indices test_lines;
  for (const size_t row : test) test_lines.push_back(static_cast<size_t>(table.line_of(row)));
  const nlohmann::json sample_settings = {
      {"target", config.value("target", "")}, {"task", config.value("task", "classification")},
      {"missing_values", config.value("missing_values", nlohmann::json())},
      {"delimiter", std::string(1, table.delimiter())}};  // as split, given or sniffed
  splits.test_fingerprint =
      test_fingerprint(splits.files, sample_settings.dump(), test_lines, splits.test.count());
  return splits;
}

}  // namespace mlc::data::detail

namespace mlc::data {

CellNumber parse_cell_number(std::string_view cell, double& value) {
  if (detail::parse_number(cell, value)) return CellNumber::ok;
  return detail::parse_any_number(cell, value) ? CellNumber::out_of_range : CellNumber::not_a_number;
}

}  // namespace mlc::data
