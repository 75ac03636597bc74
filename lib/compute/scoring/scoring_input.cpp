#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"

namespace mlc::compute::scoring {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         std::equal(suffix.rbegin(), suffix.rend(), text.rbegin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

ScoringInput read_scoring_input(const fs::path& input, const InferenceModel& model) {
  std::error_code error;
  const fs::file_status status = fs::status(input, error);
  if (!fs::exists(status)) {
    throw Error(ErrorKind::not_found, fmt::format("cannot open {}: {}", input.string(),
                                                  error ? error.message() : "No such file or directory"));
  }
  if (fs::is_directory(status)) return read_image_input(input, model);
  // The name without a trailing .gz says what the content is: gzip is read transparently.
  std::string name = input.filename().string();
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  if (ends_with(name, ".csv")) return read_csv_input(input, model);
  if (ends_with(name, ".png") || ends_with(name, ".jpg") || ends_with(name, ".jpeg")) {
    return read_image_input(input, model);
  }
  if (ends_with(name, ".json")) return read_infer_request_input(input, model);
  if (ends_with(name, "-ubyte") || ends_with(name, ".idx")) return read_idx_input(input, model);
  throw Error(ErrorKind::invalid_input,
              fmt::format("{}: unknown kind of input; give a CSV table (*.csv, *.csv.gz), PNG or JPEG "
                          "images (*.png, *.jpg, *.jpeg, or a directory of them), IDX images "
                          "(*-ubyte, *.idx, either with .gz) or an infer request (*.json)",
                          input.string()));
}

}  // namespace mlc::compute::scoring
