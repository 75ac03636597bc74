#include "exporter.hpp"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "home_file.hpp"
#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

namespace {

constexpr double kTolerance = 1e-5;
constexpr int64_t kProbeSamples = 8;

// The trained tensors under flat names, and the forward the model writes for itself.
torch::jit::Module script_module(const ClassifierImpl& model) {
  const ScriptSource source = model.script();
  torch::jit::Module module(source.class_name);
  for (const auto& parameter : model.named_parameters()) {
    module.register_parameter(script_attribute_name(parameter.key()),
                              parameter.value().detach().clone(), /*is_buffer=*/false);
  }
  for (const auto& buffer : model.named_buffers()) {
    module.register_buffer(script_attribute_name(buffer.key()), buffer.value().detach().clone());
  }
  module.define(source.forward);
  return module;
}

// Loads the saved bytes back as Python would and compares them with the native model.
void check_matches(const std::string& script_bytes, ClassifierImpl& model, const ModelInfo& info) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::istringstream script_stream(script_bytes);
  torch::jit::Module loaded = torch::jit::load(script_stream);
  loaded.eval();
  const torch::Tensor inputs = probe_inputs(info);
  const torch::Tensor expected = model.predict(inputs);
  const torch::Tensor actual = loaded.forward({inputs}).toTensor();
  const double difference = (actual - expected).abs().max().item<double>();
  if (!(difference <= kTolerance)) {
    throw Error(ErrorKind::internal,
                fmt::format("the exported TorchScript differs from the trained model by {} "
                            "(more than {}); nothing was written",
                            difference, kTolerance));
  }
}

// Open Inference Protocol tensor metadata; -1 is the batch dimension.
nlohmann::json oip_tensor(const char* name, std::vector<int64_t> shape) {
  shape.insert(shape.begin(), -1);
  return {{"name", name}, {"datatype", "FP32"}, {"shape", shape}};
}

}  // namespace

torch::Tensor probe_inputs(const ModelInfo& info) {
  std::vector<int64_t> shape = {kProbeSamples};
  shape.insert(shape.end(), info.input_shape.begin(), info.input_shape.end());
  at::Generator generator = at::detail::createCPUGenerator(0);
  const torch::Tensor noise = torch::randn(shape, generator, torch::kFloat32);
  const Standardization& scaling = info.standardization;
  if (info.feature_names.empty()) return noise * scaling.stddev.at(0) + scaling.mean.at(0);
  torch::Tensor inputs = torch::zeros(shape, torch::kFloat32);
  const auto numeric = numeric_columns(info);
  for (size_t i = 0; i < numeric.size(); ++i) {
    inputs.select(1, numeric[i]) = noise.select(1, numeric[i]) * scaling.stddev[i] + scaling.mean[i];
  }
  for (size_t column = 0; column < info.columns.categories.size(); ++column) {
    const auto count = static_cast<int64_t>(info.columns.categories[column].size());
    if (count == 0) continue;
    inputs.select(1, static_cast<int64_t>(column)) =
        torch::randint(count, {kProbeSamples}, generator, torch::kInt64).to(torch::kFloat32);
  }
  return inputs;
}

ScriptedModel script_trained_model(const TrainedModel& trained) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  const Classifier model = load_trained_model(trained);
  return script_classifier(*model, info);
}

ScriptedModel script_classifier(ClassifierImpl& model, const ModelInfo& info) {
  std::ostringstream script_stream;
  script_module(model).save(script_stream);
  ScriptedModel scripted;
  scripted.bytes = script_stream.str();
  check_matches(scripted.bytes, model, info);
  scripted.metadata.inputs = nlohmann::json::array({oip_tensor("input", info.input_shape)});
  scripted.metadata.outputs = nlohmann::json::array(
      {oip_tensor(info.task == Task::regression ? "prediction" : "logits", {output_width(info)})});
  return scripted;
}

ExportResult export_torchscript(const TrainedModel& trained, const std::filesystem::path& out) {
  ScriptedModel scripted = script_trained_model(trained);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  write_home_file(out, scripted.bytes);
  return std::move(scripted.metadata);
}

}  // namespace mlc::compute
