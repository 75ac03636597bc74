#include "onnx_export.hpp"

#include <filesystem>

#include "checkpoint.hpp"
#include "home_file.hpp"
#include "onnx_graph.hpp"
#include "variant_measure.hpp"

namespace mlc::compute {

namespace {

// The names the TorchScript export's OIP metadata gives (exporter.cpp).
constexpr const char* kInputName = "input";

const char* output_name(const ModelInfo& info) {
  return info.task == Task::regression ? "prediction" : "logits";
}

}  // namespace

OnnxModel onnx_model(const ClassifierImpl& model, const ModelInfo& info) {
  OnnxGraph graph;
  const std::string output = model.onnx_predict(graph, kInputName);
  OnnxModel onnx;
  onnx.nodes = graph.node_count();
  onnx.bytes = graph.model_bytes(model.script_source().class_name, kInputName, info.input_shape,
                                 output, output_name(info), output_width(info));
  return onnx;
}

VariantResult onnx_variant(const VariantRequest& request) {
  Fp32Baseline baseline = load_fp32_baseline(request);
  const OnnxModel onnx = onnx_model(*load_trained_model(request.model), baseline.info);
  VariantResult result;
  result.format = "onnx";
  result.metadata = baseline.script.metadata;
  result.details = {{"opset", kOnnxOpset},
                    {"ir_version", kOnnxIrVersion},
                    {"nodes", onnx.nodes},
                    {"preprocessing", "inside"},
                    {"checked_by", "onnx.checker (libonnx 1.12)"}};
  result.fp32 = measure_script(baseline.module, baseline.script.bytes.size(), baseline,
                               request.data);
  result.variant.size_bytes = static_cast<int64_t>(onnx.bytes.size());
  result.samples = baseline.splits.test.count();
  result.data_fingerprint = baseline.splits.test_fingerprint;
  if (request.out.has_parent_path()) std::filesystem::create_directories(request.out.parent_path());
  write_home_file(request.out, onnx.bytes);
  return result;
}

}  // namespace mlc::compute
