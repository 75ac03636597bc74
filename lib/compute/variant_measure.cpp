#include "variant_measure.hpp"

#include <torch/csrc/jit/serialization/import.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "evaluator.hpp"
#include "home_file.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

constexpr int64_t kInferenceBatchSize = 1024;  // as evaluate() runs a split

// Latency: runs of forward() per batch size after kWarmupRuns unmeasured ones (TorchScript's
// profiling executor optimises the graph during the first runs), stopping early once
// kLatencySeconds have passed and kMinimumRuns are measured, so that a large model stays bounded.
constexpr int kWarmupRuns = 5;
constexpr int kBatch1Runs = 200;
constexpr int kBatch64Runs = 20;
constexpr int kMinimumRuns = 5;
constexpr double kLatencySeconds = 1.0;

torch::Tensor run_script(torch::jit::Module& module, const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> batches;
  for (int64_t start = 0; start < features.size(0); start += kInferenceBatchSize) {
    batches.push_back(
        module.forward({features.slice(0, start, start + kInferenceBatchSize)}).toTensor());
  }
  return torch::cat(batches);
}

// One intra-op thread while it lives: latency as a server's batcher thread sees it.
class OneThread {
 public:
  OneThread() : previous_(at::get_num_threads()) { at::set_num_threads(1); }
  ~OneThread() { at::set_num_threads(previous_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int previous_;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Median milliseconds per sample of forward() on `batch` consecutive test samples (the split
// read cyclically, so a split smaller than the batch still fills it).
double latency_ms(torch::jit::Module& module, const torch::Tensor& features, int64_t batch,
                  int runs) {
  using Clock = std::chrono::steady_clock;
  torch::NoGradGuard no_grad;
  // Each run's input is gathered before its clock starts, one at a time: all of them at once would
  // hold 25 batches of 64 images in memory.
  const auto input_of = [&](int64_t run) {
    const torch::Tensor rows =
        torch::arange(run * batch, (run + 1) * batch, torch::kInt64).remainder(features.size(0));
    return features.index_select(0, rows);
  };
  for (int run = 0; run < kWarmupRuns; ++run) module.forward({input_of(run)});
  std::vector<double> per_sample;
  const Clock::time_point began = Clock::now();
  for (int run = kWarmupRuns; run < kWarmupRuns + runs; ++run) {
    const torch::Tensor input = input_of(run);
    const Clock::time_point start = Clock::now();
    module.forward({input});
    const std::chrono::duration<double, std::milli> took = Clock::now() - start;
    per_sample.push_back(took.count() / static_cast<double>(batch));
    const std::chrono::duration<double> elapsed = Clock::now() - began;
    if (per_sample.size() >= kMinimumRuns && elapsed.count() > kLatencySeconds) break;
  }
  return median(per_sample);
}

}  // namespace

Fp32Baseline load_fp32_baseline(const VariantRequest& request) {
  Fp32Baseline baseline;
  baseline.info = model_info_from_json(request.model.model_info);
  baseline.splits = load_test_split(request.model, baseline.info, request.data);
  baseline.test = as_tensors(baseline.splits.test);
  baseline.script = script_trained_model(request.model);
  baseline.module = loaded(baseline.script.bytes);
  return baseline;
}

std::string saved(const torch::jit::Module& module) {
  std::ostringstream stream;
  module.save(stream);
  return stream.str();
}

torch::jit::Module loaded(const std::string& bytes) {
  std::istringstream stream(bytes);
  torch::jit::Module module = torch::jit::load(stream);
  module.eval();
  return module;
}

void check_against_fp32(Fp32Baseline& baseline, torch::jit::Module& variant,
                        std::optional<double> tolerance, const std::string& what) {
  torch::NoGradGuard no_grad;
  const torch::Tensor inputs = probe_inputs(baseline.info);
  const torch::Tensor expected = baseline.module.forward({inputs}).toTensor();
  const torch::Tensor actual = variant.forward({inputs}).toTensor();
  if (actual.sizes() != expected.sizes() || !torch::isfinite(actual).all().item<bool>()) {
    throw Error(ErrorKind::internal,
                fmt::format("the {} variant's outputs are not finite or not of the fp32 export's shape; "
                            "nothing was written", what));
  }
  if (!tolerance) return;
  const double difference = (actual - expected).abs().max().item<double>();
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  if (!(difference <= *tolerance * scale)) {  // a model this variant cannot hold
    throw Error(ErrorKind::refused,
                fmt::format("the {} variant differs from the fp32 export by {} (more than {} of "
                            "its outputs' scale {}); nothing was written",
                            what, difference, *tolerance, scale));
  }
}

VariantMeasurement measure_script(torch::jit::Module& module, size_t size_bytes, const Fp32Baseline& baseline,
                                  const nlohmann::json& data) {
  VariantMeasurement measurement;
  measurement.metrics =
      measure_outputs(baseline.info, run_script(module, baseline.test.features), baseline.test.targets, data, 0)
          .metrics;
  measurement.size_bytes = static_cast<int64_t>(size_bytes);
  const OneThread one_thread;
  measurement.latency_batch1_ms = latency_ms(module, baseline.test.features, 1, kBatch1Runs);
  measurement.latency_batch64_ms = latency_ms(module, baseline.test.features, 64, kBatch64Runs);
  return measurement;
}

VariantResult measured_torchscript_variant(Fp32Baseline& baseline, const VariantRequest& request,
                                           const std::string& bytes, torch::jit::Module& module,
                                           nlohmann::json details) {
  VariantResult result;
  result.format = "torchscript";
  result.metadata = baseline.script.metadata;
  result.details = std::move(details);
  result.fp32 = measure_script(baseline.module, baseline.script.bytes.size(), baseline, request.data);
  result.variant = measure_script(module, bytes.size(), baseline, request.data);
  result.samples = baseline.splits.test.count();
  result.data_fingerprint = baseline.splits.test_fingerprint;
  if (request.out.has_parent_path()) std::filesystem::create_directories(request.out.parent_path());
  write_home_file(request.out, bytes);
  return result;
}

}  // namespace mlc::compute
