// export --variant onnx: a trained model as an ONNX graph (opset 17), preprocessing included, for
// runtimes other than libtorch. mlc has no ONNX runtime in-process, so the file is checked with
// libonnx's checker, not run; the CLI tests run it with ONNX Runtime.
#pragma once

#include <cstdint>
#include <string>

#include "mlc/compute.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

struct OnnxModel {
  std::string bytes;   // a serialized onnx.ModelProto, checked (OnnxGraph::model_bytes)
  int64_t nodes = 0;   // in its graph
};

// `model`'s predict() in inference mode as ONNX: input "input" FP32 [batch, info.input_shape...]
// (raw features, as the TorchScript export takes them), output "logits" or "prediction" FP32
// [batch, output_width(info)], the same names and shapes as the TorchScript export's OIP
// metadata. Error(internal) if libonnx's checker refuses the graph.
OnnxModel onnx_model(const ClassifierImpl& model, const ModelInfo& info);

// ComputeBackend::export_variant for VariantKind::onnx: refuses data whose test split is empty or
// does not fit the model (Error(invalid_input)) first; builds and checks the graph; measures the
// fp32 export on the test split as every variant does, and the ONNX file by its size only (no
// metrics, no latency: mlc cannot run it); then writes it to request.out (write_home_file:
// Error(catalog) if it cannot be written). details: opset, nodes, preprocessing, checked_by.
VariantResult onnx_variant(const VariantRequest& request);

}  // namespace mlc::compute
