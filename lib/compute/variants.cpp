#include "variants.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <optional>
#include <string>
#include <tuple>

#include "checkpoint.hpp"
#include "onnx_export.hpp"
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

// Static int8's calibration: this many training samples (all of a smaller split), drawn without
// replacement (torch::randperm on a CPU generator seeded with kCalibrationSeed), so that the same
// version always gets the same scales.
constexpr int64_t kCalibrationSamples = 512;
constexpr int64_t kCalibrationSeed = 0;

CalibrationSample calibration_sample(const data::Splits& splits) {
  const SampleTensors train = as_tensors(splits.train);
  const int64_t count = train.features.size(0);
  torch::Tensor rows = torch::arange(count, torch::kInt64);
  if (count > kCalibrationSamples) {
    // torch::randperm on a seeded CPU generator, as the trainer draws its epoch orders: the same
    // rows whatever the C++ standard library (std::shuffle's permutation is implementation-defined).
    at::Generator generator = at::detail::createCPUGenerator(kCalibrationSeed);
    rows = std::get<0>(torch::randperm(count, generator, torch::kInt64).slice(0, 0, kCalibrationSamples).sort());
  }
  return {train.features.index_select(0, rows), kCalibrationSeed};
}

// fp16 and int8: the fp32 export's TorchScript with its tensors stored otherwise.
VariantResult rewritten_variant(const VariantRequest& request) {
  // int8 weights are prepacked for the engine current when they are packed and when they load.
  std::optional<OnednnEngine> engine;
  if (request.kind == VariantKind::int8) engine.emplace();
  Fp32Baseline baseline = load_fp32_baseline(request);
  std::optional<CalibrationSample> calibration;
  if (request.kind == VariantKind::int8) calibration = calibration_sample(baseline.splits);
  VariantScript variant =
      script_variant(*load_trained_model(request.model), request.kind, request.quantization,
                     calibration ? &*calibration : nullptr);
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
    case VariantKind::onnx: return onnx_variant(request);
  }
  throw Error(ErrorKind::internal, fmt::format("unknown variant kind {}", static_cast<int>(request.kind)));
}

}  // namespace mlc::compute
