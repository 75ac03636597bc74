#include "variants.hpp"

#include <torch/utils.h>

#include <optional>
#include <string>

#include "checkpoint.hpp"
#include "prune.hpp"
#include "variant_measure.hpp"
#include "variant_script.hpp"

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

// fp16 weights carry ~3 significant digits; measured differences on the test models are ~1e-3
// of the logits' scale.
constexpr double kFp16Tolerance = 1e-2;

// fp16 and int8: the fp32 export's TorchScript with its tensors stored otherwise.
VariantResult rewritten_variant(const VariantRequest& request) {
  // int8 weights are prepacked for the engine current when they are packed and when they load.
  std::optional<OnednnEngine> engine;
  if (request.kind == VariantKind::int8) engine.emplace();
  Fp32Baseline baseline = load_fp32_baseline(request);
  VariantScript variant = script_variant(*load_trained_model(request.model), request.kind);
  const std::string bytes = saved(variant.module);
  torch::jit::Module module = loaded(bytes);
  check_against_fp32(baseline, module,
                     request.kind == VariantKind::fp16 ? std::optional(kFp16Tolerance) : std::nullopt,
                     std::string(to_string(request.kind)));
  return measured_torchscript_variant(baseline, request, bytes, module, std::move(variant.details));
}

}  // namespace

VariantResult export_variant(const VariantRequest& request) {
  switch (request.kind) {
    case VariantKind::fp16:
    case VariantKind::int8: return rewritten_variant(request);
    case VariantKind::prune: return prune_variant(request);
    case VariantKind::onnx: break;
  }
  throw Error(ErrorKind::refused,
              fmt::format("--variant {} is not built yet", to_string(request.kind)));
}

}  // namespace mlc::compute
