#include <fmt/format.h>

#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"
#include "serving/oip.hpp"

namespace mlc::compute::scoring {

ScoringInput read_infer_request_input(const std::filesystem::path& file, const InferenceModel& model) {
  std::string body = read_input_file(file);
  serving::InferRequest request;
  try {
    request = serving::parse_infer_request(std::move(body), model);
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::invalid_input) throw;
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", file.string(), error.what()));
  }
  const int64_t rows = request.batch.size(0);
  if (rows == 0) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: the request holds no rows", file.string()));
  }
  ScoringInput input;
  input.kind = "infer_request";
  input.columns = {"index"};
  input.batch = request.batch.to(torch::kFloat32).contiguous();
  for (int64_t row = 0; row < rows; ++row) {
    input.passed.push_back({std::to_string(row)});
    input.origins.push_back(fmt::format("{}: row {}", file.string(), row));
  }
  return input;
}

}  // namespace mlc::compute::scoring
