#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#define STBI_NO_STDIO
#include <stb/stb_image.h>

#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"

namespace mlc::compute::scoring {
namespace fs = std::filesystem;
namespace {

Error invalid(const fs::path& path, const std::string& what) {
  return Error(ErrorKind::invalid_input, fmt::format("{}: {}", path.string(), what));
}

struct ImageSize {
  int64_t height = 0;
  int64_t width = 0;
};

// Image models take [height, width] (IDX images, as trained) or [1, height, width].
ImageSize image_size_of(const InferenceModel& model, const fs::path& path) {
  const std::vector<int64_t>& shape = model.sample_shape();
  if (model.table().empty() && shape.size() == 2) return {shape[0], shape[1]};
  if (model.table().empty() && shape.size() == 3 && shape[0] == 1) return {shape[1], shape[2]};
  throw invalid(path, fmt::format("an image, but {} takes {}", model.name(),
                                  model.table().empty()
                                      ? fmt::format("samples of shape [{}]", fmt::join(shape, ","))
                                      : "table rows: give a CSV file or an infer request"));
}

bool is_image_name(const fs::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

// The directory's image files, in name order, so that the output's order does not depend on the
// filesystem's.
std::vector<fs::path> image_files(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (is_image_name(it->path()) && it->is_regular_file()) files.push_back(it->path());
  }
  if (error) {
    throw Error(ErrorKind::not_found,
                fmt::format("cannot read directory {}: {}", directory.string(), error.message()));
  }
  if (files.empty()) throw invalid(directory, "no *.png, *.jpg or *.jpeg files");
  std::sort(files.begin(), files.end());
  return files;
}

// Decodes `file` as 8-bit grayscale into `pixels` (size.height * size.width values, 0..255).
void decode_into(const fs::path& file, ImageSize size, float* pixels) {
  const std::string bytes = read_input_file(file);
  if (bytes.size() > static_cast<size_t>(INT_MAX)) throw invalid(file, "larger than 2 GiB");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int width = 0;
  int height = 0;
  int channels = 0;
  // The header first: an image of another size is refused before anything is decoded or allocated.
  if (stbi_info_from_memory(data, length, &width, &height, &channels) == 0) {
    throw invalid(file, fmt::format("not a PNG or JPEG image ({})", stbi_failure_reason()));
  }
  if (width != size.width || height != size.height) {
    throw invalid(file, fmt::format("the image is {}x{} pixels, the model takes {}x{} (width x height)",
                                    width, height, size.width, size.height));
  }
  const std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> gray(
      stbi_load_from_memory(data, length, &width, &height, &channels, 1), &stbi_image_free);
  if (!gray) throw invalid(file, fmt::format("cannot decode the image ({})", stbi_failure_reason()));
  std::copy(gray.get(), gray.get() + size.height * size.width, pixels);
}

}  // namespace

ScoringInput read_image_input(const fs::path& path, const InferenceModel& model) {
  const ImageSize size = image_size_of(model, path);
  const std::vector<fs::path> files = fs::is_directory(path) ? image_files(path) : std::vector{path};
  ScoringInput input;
  input.kind = "images";
  input.columns = {"file"};
  std::vector<int64_t> shape = {static_cast<int64_t>(files.size())};
  shape.insert(shape.end(), model.sample_shape().begin(), model.sample_shape().end());
  input.batch = torch::empty(shape, torch::kFloat32);
  float* pixels = input.batch.data_ptr<float>();
  for (const fs::path& file : files) {
    decode_into(file, size, pixels);
    pixels += size.height * size.width;
    input.passed.push_back({file.filename().string()});
    input.origins.push_back(file.string());
  }
  return input;
}

}  // namespace mlc::compute::scoring
