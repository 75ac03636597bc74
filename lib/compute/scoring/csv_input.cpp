#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/data.hpp"
#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"

namespace mlc::compute::scoring {
namespace {

Error invalid(const std::string& what) { return Error(ErrorKind::invalid_input, what); }

// For each of the model's features, the file's column that holds it (0-based).
std::vector<size_t> feature_positions(const data::CsvTable& table, const TableEncoding& encoding,
                                      const std::filesystem::path& file) {
  std::vector<size_t> positions;
  for (const std::string& name : encoding.feature_names()) {
    size_t position = 0;
    while (position < table.header.size() && table.header[position] != name) ++position;
    if (position == table.header.size()) {
      throw invalid(fmt::format("{}: no column '{}' (the model's features: {})", file.string(), name,
                                fmt::join(encoding.feature_names(), ", ")));
    }
    positions.push_back(position);
  }
  return positions;
}

}  // namespace

ScoringInput read_csv_input(const std::filesystem::path& file, const InferenceModel& model) {
  const TableEncoding& encoding = model.table();
  if (encoding.empty()) {
    throw invalid(fmt::format("{}: a CSV table, but {} takes images of [{}]: give PNG, JPEG or IDX "
                              "images, or an infer request",
                              file.string(), model.name(), fmt::join(model.sample_shape(), ",")));
  }
  const data::CsvTable table = data::parse_csv(read_input_file(file), file);
  const std::vector<size_t> positions = feature_positions(table, encoding, file);
  if (table.rows.empty()) throw invalid(fmt::format("{}: no rows after the header", file.string()));

  ScoringInput input;
  input.kind = "csv";
  std::vector<bool> is_feature(table.header.size(), false);
  for (size_t position : positions) is_feature[position] = true;
  std::vector<size_t> passed_positions;
  for (size_t position = 0; position < table.header.size(); ++position) {
    if (is_feature[position]) continue;
    passed_positions.push_back(position);
    input.columns.push_back(table.header[position]);
  }

  const auto rows = static_cast<int64_t>(table.rows.size());
  const auto width = static_cast<int64_t>(positions.size());
  input.batch = torch::empty({rows, width}, torch::kFloat32);
  float* values = input.batch.data_ptr<float>();
  for (size_t row = 0; row < table.rows.size(); ++row) {
    const std::vector<std::string>& cells = table.rows[row];
    const std::string origin = fmt::format("{}:{}", file.string(), table.line_numbers[row]);
    for (size_t feature = 0; feature < positions.size(); ++feature) {
      try {
        *values++ = encoding.encode(feature, cells[positions[feature]]);
      } catch (const Error& error) {
        // Column as a spreadsheet counts it: the 1-based field of the row.
        throw invalid(fmt::format("{}:{}: {}", origin, positions[feature] + 1, error.what()));
      }
    }
    std::vector<std::string> passed;
    for (size_t position : passed_positions) passed.push_back(cells[position]);
    input.passed.push_back(std::move(passed));
    input.origins.push_back(origin);
  }
  return input;
}

}  // namespace mlc::compute::scoring
