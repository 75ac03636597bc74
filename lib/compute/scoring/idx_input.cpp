#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/data.hpp"
#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"

namespace mlc::compute::scoring {

ScoringInput read_idx_input(const std::filesystem::path& file, const InferenceModel& model) {
  const auto invalid = [&](const std::string& what) {
    return Error(ErrorKind::invalid_input, fmt::format("{}: {}", file.string(), what));
  };
  if (!model.table().empty()) {
    throw invalid(fmt::format("IDX images, but {} takes table rows: give a CSV file or an infer "
                              "request", model.name()));
  }
  data::IdxArray array = data::read_idx(file);
  const std::vector<int64_t> item_shape(array.dims.begin() + 1, array.dims.end());
  if (item_shape != model.sample_shape()) {
    throw invalid(fmt::format("its items have shape [{}], {} takes [{}]", fmt::join(item_shape, ","),
                              model.name(), fmt::join(model.sample_shape(), ",")));
  }
  if (array.dims[0] == 0) throw invalid("no items");

  ScoringInput input;
  input.kind = "idx";
  input.columns = {"index"};
  input.batch = torch::from_blob(array.values.data(), array.dims, torch::kUInt8).to(torch::kFloat32);
  for (int64_t item = 0; item < array.dims[0]; ++item) {
    input.passed.push_back({std::to_string(item)});
    input.origins.push_back(fmt::format("{}: item {}", file.string(), item));
  }
  return input;
}

}  // namespace mlc::compute::scoring
