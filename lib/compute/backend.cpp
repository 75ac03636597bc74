// The ComputeBackend that libmlc_compute.so hands to the mlc binary, and the boundary where
// libtorch's exceptions become mlc::Error.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <exception>
#include <filesystem>
#include <string>

#include "evaluator.hpp"
#include "exporter.hpp"
#include "inference/inference_model.hpp"
#include "mlc/compute.hpp"
#include "mlc/error.hpp"
#include "scoring/scorer.hpp"
#include "serving/server.hpp"
#include "torch_error.hpp"
#include "torchscript_inspector.hpp"
#include "trainer.hpp"
#include "variants.hpp"

namespace mlc::compute {

namespace {

// Runs `work`, letting mlc::Error through and turning anything else (c10::Error, std::bad_alloc,
// a filesystem error) into Error(internal): the CLI prints mlc::Error only.
template <typename Work>
auto translating_errors(Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const Error&) {
    throw;
  } catch (const std::filesystem::filesystem_error& error) {
    throw Error(ErrorKind::internal, error.what());
  } catch (const std::exception& error) {
    throw Error(ErrorKind::internal, "libtorch: " + first_line_of(error));
  }
}

class TorchBackend final : public ComputeBackend {
 public:
  TrainResult train(const TrainRequest& request) override {
    return translating_errors([&] { return compute::train(request); });
  }

  EvalResult evaluate(const TrainedModel& model, const nlohmann::json& data,
                      const EvalSettings& settings = {}) override {
    return translating_errors([&] {
      use_configured_threads(model.config);
      return compute::evaluate(model, data, settings);
    });
  }

  ExportResult export_torchscript(const TrainedModel& model,
                                  const std::filesystem::path& out) override {
    return translating_errors([&] {
      use_configured_threads(model.config);
      return compute::export_torchscript(model, out);
    });
  }

  VariantResult export_variant(const VariantRequest& request) override {
    return translating_errors([&] {
      use_configured_threads(request.model.config);
      return compute::export_variant(request);
    });
  }

  Predictions predict(const TrainedModel& model, const nlohmann::json& data,
                      int64_t limit) override {
    return translating_errors([&] {
      use_configured_threads(model.config);
      return compute::predict(model, data, limit);
    });
  }

  ScoreResult score(const ScoreRequest& request) override {
    return translating_errors([&] { return compute::score(request); });
  }

  void serve(const ServeRequest& request) override {
    translating_errors([&] { serving::serve(request); });
  }

  TorchScriptInfo inspect_torchscript(const std::filesystem::path& file) override {
    return translating_errors([&] {
      // Reading a file's signature needs no thread pool. An int8 file's load prepacks its weights
      // through onednn, which starts OpenMP workers with the default thread count; under
      // LeakSanitizer (the sanitizer build), a process left with them crashed the leak checker
      // at exit (register --artifact of an int8 variant, every time).
      at::set_num_threads(1);
      return compute::inspect_torchscript(file);
    });
  }

  std::string torch_version() const override { return TORCH_VERSION; }
};

}  // namespace

}  // namespace mlc::compute

extern "C" __attribute__((visibility("default"))) mlc::ComputeBackend* mlc_compute_backend() {
  static mlc::compute::TorchBackend backend = [] {
    // Once per process, before any model loads: int8 variants are prepacked for onednn, and every
    // load of one (serve, predict, register --artifact) prepacks them again for the engine then.
    // (Under qnnpack, LeakSanitizer's tracer crashed at the exit of a process that had loaded one.)
    mlc::compute::use_onednn_engine_if_supported();
    return mlc::compute::TorchBackend();
  }();
  return &backend;
}
