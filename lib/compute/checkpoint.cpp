#include "checkpoint.hpp"

#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "config_access.hpp"
#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {

namespace {

using TensorShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

TensorShapes shapes_of(const torch::nn::Module& model) {
  TensorShapes shapes;
  for (const auto& parameter : model.named_parameters()) {
    shapes.emplace_back(parameter.key(), parameter.value().sizes().vec());
  }
  for (const auto& buffer : model.named_buffers()) {
    shapes.emplace_back(buffer.key(), buffer.value().sizes().vec());
  }
  return shapes;
}

// Module::load replaces each tensor with the archive's whatever its shape, so a checkpoint of a
// model with other layer widths would load "successfully" and fail later inside a matmul.
void check_same_shapes(const TensorShapes& expected, const TensorShapes& loaded,
                       const std::filesystem::path& path) {
  for (size_t i = 0; i < expected.size(); ++i) {
    if (loaded[i].second != expected[i].second) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("{}: not a checkpoint of this model: {} has shape [{}], the model "
                              "needs [{}]",
                              path.string(), expected[i].first, fmt::join(loaded[i].second, ","),
                              fmt::join(expected[i].second, ",")));
    }
  }
}

}  // namespace

void save_checkpoint(const ClassifierImpl& model, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  std::error_code error;
  try {
    archive.save_to(temporary.string());
  } catch (...) {
    std::filesystem::remove(temporary, error);
    throw;
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    throw Error(ErrorKind::internal,
                fmt::format("cannot write checkpoint {}: {}", path.string(), error.message()));
  }
}

void load_checkpoint(ClassifierImpl& model, const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(ErrorKind::not_found, fmt::format("checkpoint not found: {}", path.string()));
  }
  const TensorShapes expected = shapes_of(model);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    model.load(archive);
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: not a checkpoint of this model: {}",
                                                      path.string(), first_line_of(error)));
  }
  check_same_shapes(expected, shapes_of(model), path);
}

Classifier load_trained_model(const TrainedModel& trained) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  Classifier model = build_model(config_value<nlohmann::json>(trained.config, "/model"), info);
  load_checkpoint(*model, trained.checkpoint);
  model->eval();
  return model;
}

}  // namespace mlc::compute
