#include "checkpoint.hpp"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include "config_access.hpp"
#include "home_file.hpp"
#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {

namespace {

void load_module(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                 const std::string& prefix, const std::filesystem::path& path);

// Copies the archive's tensor into `target` in place, so that every view of the parameter (an
// LSTM's flat weights) sees it; Module::load would instead swap in the archive's tensor whatever
// its shape, and a checkpoint of other layer widths would fail later inside a matmul.
void read_into(torch::Tensor& target, torch::serialize::InputArchive& archive,
               const std::string& key, const std::string& name, bool is_buffer,
               const std::filesystem::path& path) {
  torch::Tensor stored;
  if (!archive.try_read(key, stored, is_buffer)) {
    // Preprocessing buffers are rebuilt from model_info; a checkpoint of an older mlc that lacks
    // one of them is still the same model.
    if (is_buffer && (name.rfind("standardize.", 0) == 0 || name == "target_mean" ||
                      name == "target_std")) {
      return;
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: not a checkpoint of this model: it has no {}", path.string(), name));
  }
  if (stored.sizes() != target.sizes()) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: not a checkpoint of this model: {} has shape [{}], the model "
                            "needs [{}]",
                            path.string(), name, fmt::join(stored.sizes(), ","),
                            fmt::join(target.sizes(), ",")));
  }
  torch::NoGradGuard no_grad;
  target.copy_(stored);
}

void load_module(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                 const std::string& prefix, const std::filesystem::path& path) {
  for (auto& parameter : module.named_parameters(/*recurse=*/false)) {
    read_into(parameter.value(), archive, parameter.key(), prefix + parameter.key(), false, path);
  }
  for (auto& buffer : module.named_buffers(/*recurse=*/false)) {
    read_into(buffer.value(), archive, buffer.key(), prefix + buffer.key(), true, path);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    const std::string name = prefix + child.key();
    if (!archive.try_read(child.key(), child_archive)) {
      if (name == "standardize") continue;  // see read_into
      throw Error(ErrorKind::invalid_input,
                  fmt::format("{}: not a checkpoint of this model: it has no {}", path.string(), name));
    }
    load_module(*child.value(), child_archive, name + ".", path);
  }
}

}  // namespace

void load_weights(ClassifierImpl& model, torch::serialize::InputArchive& archive,
                  const std::filesystem::path& path) {
  load_module(model, archive, "", path);
}

void save_checkpoint(const ClassifierImpl& model, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  write_home_file(path, serialized(archive));
}

void load_checkpoint(ClassifierImpl& model, const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(ErrorKind::not_found, fmt::format("checkpoint not found: {}", path.string()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    load_weights(model, archive, path);
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: not a checkpoint of this model: {}",
                                                      path.string(), first_line_of(error)));
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
