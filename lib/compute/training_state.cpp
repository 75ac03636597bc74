#include "training_state.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <mutex>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "home_file.hpp"
#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {

namespace {

nlohmann::json epoch_to_json(const EpochMetrics& epoch) {
  return {{"epoch", epoch.epoch},
          {"train_loss", epoch.train_loss},
          {"validation", epoch.validation},
          {"seconds", epoch.seconds}};
}

EpochMetrics epoch_from_json(const nlohmann::json& json) {
  EpochMetrics epoch;
  epoch.epoch = json.at("epoch").get<int>();
  epoch.train_loss = json.at("train_loss").get<double>();
  epoch.validation = json.at("validation").get<Metrics>();
  epoch.seconds = json.at("seconds").get<double>();
  return epoch;
}

nlohmann::json progress_to_json(const RunProgress& progress) {
  auto epochs = nlohmann::json::array();
  for (const auto& epoch : progress.epochs) epochs.push_back(epoch_to_json(epoch));
  auto files = nlohmann::json::array();
  for (const auto& file : progress.data_files) {
    files.push_back({{"role", file.role}, {"path", file.path}, {"sha256", file.sha256}});
  }
  return {{"epoch", progress.epoch},         {"next_batch", progress.next_batch},
          {"loss_sum", progress.loss_sum},   {"epoch_seconds", progress.epoch_seconds},
          {"epochs", epochs},                {"best_epoch", progress.best_epoch},
          {"train_seconds", progress.train_seconds}, {"data_files", files}};
}

RunProgress progress_from_json(const nlohmann::json& json) {
  RunProgress progress;
  progress.epoch = json.at("epoch").get<int>();
  progress.next_batch = json.at("next_batch").get<int64_t>();
  progress.loss_sum = json.at("loss_sum").get<double>();
  progress.epoch_seconds = json.at("epoch_seconds").get<double>();
  for (const auto& epoch : json.at("epochs")) progress.epochs.push_back(epoch_from_json(epoch));
  progress.best_epoch = json.at("best_epoch").get<int>();
  progress.train_seconds = json.at("train_seconds").get<double>();
  for (const auto& file : json.at("data_files")) {
    progress.data_files.push_back({file.at("role").get<std::string>(),
                                   file.at("path").get<std::string>(),
                                   file.at("sha256").get<std::string>()});
  }
  return progress;
}

void set_generator_state(at::Generator& generator, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace

torch::Tensor generator_state(at::Generator& generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void save_training_state(const std::filesystem::path& path, const ClassifierImpl& model,
                         const torch::optim::Optimizer& optimizer,
                         const torch::Tensor& order_state_at_epoch_start,
                         const RunProgress& progress) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  at::Generator global = at::detail::getDefaultCPUGenerator();
  archive.write("global_generator", generator_state(global), /*is_buffer=*/true);
  archive.write("order_generator", order_state_at_epoch_start, /*is_buffer=*/true);
  archive.write("progress", c10::IValue(progress_to_json(progress).dump()));

  write_home_file(path, serialized(archive));
}

RunProgress load_training_state(const std::filesystem::path& path, ClassifierImpl& model,
                                torch::optim::Optimizer& optimizer,
                                at::Generator& order_generator) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(ErrorKind::not_found, fmt::format("training state not found: {}", path.string()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    load_weights(model, model_archive, path);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor global_state;
    torch::Tensor order_state;
    archive.read("global_generator", global_state, /*is_buffer=*/true);
    archive.read("order_generator", order_state, /*is_buffer=*/true);
    at::Generator global = at::detail::getDefaultCPUGenerator();
    set_generator_state(global, global_state);
    set_generator_state(order_generator, order_state);
    c10::IValue progress;
    archive.read("progress", progress);
    return progress_from_json(nlohmann::json::parse(progress.toStringRef()));
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: not a training state of this run: {}",
                                                      path.string(), first_line_of(error)));
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: damaged training progress: {}", path.string(), error.what()));
  }
}

}  // namespace mlc::compute
