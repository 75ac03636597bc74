// A TorchScript model loaded once for inference: what `mlc serve` holds per deployed model and
// what `mlc predict --input` runs. Immutable after construction; forward() may be called from
// any number of threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/csrc/jit/api/module.h>
#include <torch/types.h>

#include "inference/table_encoding.hpp"

namespace mlc::compute {

// What one sample's output row means to a person (softmax and argmax of the logits).
struct Decision {
  int64_t label = 0;                // classification: the argmax
  std::vector<float> probabilities; // classification: softmax of the logits
};

class InferenceModel {
 public:
  // `script` holds the TorchScript file's bytes; `manifest` is its manifest.json (name, versions,
  // inputs, outputs, task, labels, feature_names, preprocessing). `missing_values`: table cells
  // read as missing. Throws Error(invalid_input) naming `source` if libtorch cannot load the bytes
  // or the manifest lacks what serving needs (one FP32 input and one output with shapes).
  InferenceModel(const std::string& script, nlohmann::json manifest, const std::string& source,
                 std::set<std::string> missing_values = {"", "NA", "NaN"});

  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  bool regression() const { return regression_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // One sample's shape, without the batch dimension, e.g. {28, 28} or {13}.
  const std::vector<int64_t>& sample_shape() const { return sample_shape_; }
  int64_t sample_size() const { return sample_size_; }
  int64_t output_width() const { return output_width_; }
  const std::string& input_name() const { return input_name_; }
  const std::string& output_name() const { return output_name_; }
  const TableEncoding& table() const { return table_; }

  // [n, sample_shape...] FP32 -> [n, output_width] (logits, or the predicted value), contiguous,
  // computed under torch::InferenceMode.
  torch::Tensor forward(const torch::Tensor& batch) const;

  Decision decide(const float* outputs) const;

 private:
  nlohmann::json manifest_;
  std::string name_;
  std::string version_;
  bool regression_ = false;
  std::vector<std::string> labels_;
  std::vector<int64_t> sample_shape_;
  int64_t sample_size_ = 1;
  int64_t output_width_ = 1;
  std::string input_name_;
  std::string output_name_;
  TableEncoding table_;
  // A jit::Module is a handle; its forward is not const in libtorch's API, but running one module
  // from several threads is what TorchScript's interpreter is built for (no state is written).
  mutable torch::jit::Module module_;
};

// Makes onednn libtorch's quantised engine for the rest of the process, if this libtorch has it
// (else leaves the engine as it is). int8 variants (mlc export --variant int8) were prepacked for
// onednn, and loading one prepacks its weights again for the engine current then: the backend
// calls this once, when libmlc_compute.so hands it out (backend.cpp), before anything loads.
// Making a variant sets it again around its own work (variant_script.hpp's OnednnEngine).
void use_onednn_engine_if_supported();

}  // namespace mlc::compute
