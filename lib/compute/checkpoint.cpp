#include "checkpoint.hpp"

#include <system_error>

#include <fmt/format.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "config_access.hpp"
#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {

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
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    model.load(archive);
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: not a checkpoint of this model: {}", path.string(),
                            first_line_of(error)));
  }
}

Classifier load_trained_model(const TrainedModel& trained) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  Classifier model = build_model(config_value<nlohmann::json>(trained.config, "/model"), info);
  load_checkpoint(*model, trained.checkpoint);
  model->eval();
  return model;
}

}  // namespace mlc::compute
