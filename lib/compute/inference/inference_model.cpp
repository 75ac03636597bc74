#include "inference/inference_model.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/csrc/jit/serialization/import.h>

#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {
namespace {

Error invalid(const std::string& source, const std::string& what) {
  return Error(ErrorKind::invalid_input, source + ": " + what);
}

// The manifest's one tensor of `key` ("inputs" or "outputs"): its name and shape.
const nlohmann::json& only_tensor(const nlohmann::json& manifest, const char* key,
                                  const std::string& source) {
  const auto tensors = manifest.find(key);
  if (tensors == manifest.end() || !tensors->is_array() || tensors->size() != 1 ||
      !tensors->at(0).is_object() || !tensors->at(0).value("name", nlohmann::json()).is_string() ||
      !tensors->at(0).value("shape", nlohmann::json()).is_array()) {
    throw invalid(source, fmt::format("manifest '{}' must list one tensor with a name and a shape", key));
  }
  return tensors->at(0);
}

// The TorchScript interpreter throws a std::runtime_error whose text is a traceback with the
// model's code; what went wrong is its last line ("RuntimeError: shape '[2, 2]' is invalid ...").
std::string interpreter_error(const std::exception& error) {
  std::string text = error.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

}  // namespace

InferenceModel::InferenceModel(const std::string& script, nlohmann::json manifest,
                               const std::string& source, std::set<std::string> missing_values)
    : manifest_(std::move(manifest)) {
  if (!manifest_.is_object()) throw invalid(source, "the manifest is not a JSON object");
  name_ = manifest_.value("name", "");
  const auto versions = manifest_.value("versions", nlohmann::json::array());
  version_ = versions.empty() ? "" : versions.back().get<std::string>();
  regression_ = manifest_.value("task", "classification") == "regression";
  const auto labels = manifest_.value("labels", nlohmann::json::array());
  for (const auto& label : labels) labels_.push_back(label.get<std::string>());

  const auto& input = only_tensor(manifest_, "inputs", source);
  input_name_ = input.at("name").get<std::string>();
  const auto shape = input.at("shape").get<std::vector<int64_t>>();
  if (shape.size() < 2 || shape[0] != -1) {
    throw invalid(source, "manifest input shape must be [-1, ...] (a batch dimension first)");
  }
  sample_shape_.assign(shape.begin() + 1, shape.end());
  for (const int64_t size : sample_shape_) {
    if (size <= 0) throw invalid(source, "manifest input shape has a dimension that is not positive");
    sample_size_ *= size;
  }
  const auto& output = only_tensor(manifest_, "outputs", source);
  output_name_ = output.at("name").get<std::string>();
  const auto output_shape = output.at("shape").get<std::vector<int64_t>>();
  output_width_ = output_shape.empty() ? 1 : output_shape.back();
  if (!regression_ && labels_.size() != static_cast<size_t>(output_width_)) {
    labels_.clear();  // an artifact registered without class names: labels by index
    for (int64_t i = 0; i < output_width_; ++i) labels_.push_back(std::to_string(i));
  }
  table_ = TableEncoding::from_description(manifest_, std::move(missing_values));

  std::istringstream stream(script);
  try {
    module_ = torch::jit::load(stream, c10::kCPU);
  } catch (const std::exception& error) {
    throw invalid(source, "libtorch cannot load it as TorchScript: " + first_line_of(error));
  }
  module_.eval();
}

torch::Tensor InferenceModel::forward(const torch::Tensor& batch) const {
  torch::InferenceMode inference;
  try {
    torch::Tensor output = module_.forward({batch}).toTensor();
    return output.to(torch::kFloat32).reshape({batch.size(0), output_width_}).contiguous();
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::invalid_input, "the model could not run on this input: " + first_line_of(error));
  } catch (const std::exception& error) {
    throw Error(ErrorKind::invalid_input, "the model could not run on this input: " + interpreter_error(error));
  }
}

Decision InferenceModel::decide(const float* outputs) const {
  Decision decision;
  if (regression_) return decision;
  float top = outputs[0];
  for (int64_t i = 1; i < output_width_; ++i) {
    if (outputs[i] > top) {
      top = outputs[i];
      decision.label = i;
    }
  }
  decision.probabilities.resize(static_cast<size_t>(output_width_));
  double total = 0;
  for (int64_t i = 0; i < output_width_; ++i) {
    const double p = std::exp(static_cast<double>(outputs[i] - top));
    decision.probabilities[static_cast<size_t>(i)] = static_cast<float>(p);
    total += p;
  }
  for (float& p : decision.probabilities) p = static_cast<float>(p / total);
  return decision;
}

void use_onednn_engine_if_supported() {
  const auto& engines = at::globalContext().supportedQEngines();
  if (std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) != engines.end()) {
    at::globalContext().setQEngine(at::QEngine::ONEDNN);
  }
}

}  // namespace mlc::compute
