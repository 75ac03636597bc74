#include "exporter.hpp"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "mlc/error.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

namespace {

constexpr double kTolerance = 1e-5;
constexpr int64_t kProbeSamples = 8;

// The trained tensors under flat names, and the forward the model writes for itself.
torch::jit::Module script_module(const ClassifierImpl& model) {
  const ScriptSource source = model.script_source();
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

// Raw inputs on the scale of the training data: standard normal noise mapped back through the
// standardization, from a generator of its own so that exporting never moves torch's global one.
torch::Tensor probe_inputs(const ModelInfo& info) {
  std::vector<int64_t> shape = {kProbeSamples};
  shape.insert(shape.end(), info.input_shape.begin(), info.input_shape.end());
  at::Generator generator = at::detail::createCPUGenerator(0);
  const torch::Tensor noise = torch::randn(shape, generator, torch::kFloat32);
  const Standardization& standardization = info.standardization;
  const auto parameter_shape = standardization.scope == StandardizeScope::global
                                   ? std::vector<int64_t>{1}
                                   : info.input_shape;
  const torch::Tensor mean = torch::tensor(standardization.mean).reshape(parameter_shape);
  const torch::Tensor stddev = torch::tensor(standardization.stddev).reshape(parameter_shape);
  return noise * stddev + mean;
}

void check_matches(const std::filesystem::path& script_file, ClassifierImpl& model,
                   const ModelInfo& info) {
  torch::NoGradGuard no_grad;
  model.eval();
  torch::jit::Module loaded = torch::jit::load(script_file.string());
  loaded.eval();
  const torch::Tensor inputs = probe_inputs(info);
  const torch::Tensor expected = model.forward(inputs);
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

ExportResult export_torchscript(const TrainedModel& trained, const std::filesystem::path& out) {
  const ModelInfo info = model_info_from_json(trained.model_info);
  const Classifier model = load_trained_model(trained);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::filesystem::path temporary = out;
  temporary += ".tmp";
  try {
    script_module(*model).save(temporary.string());
    check_matches(temporary, *model, info);
    std::filesystem::rename(temporary, out);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
  ExportResult result;
  result.inputs = nlohmann::json::array({oip_tensor("input", info.input_shape)});
  result.outputs = nlohmann::json::array(
      {oip_tensor("logits", {static_cast<int64_t>(info.class_names.size())})});
  return result;
}

}  // namespace mlc::compute
