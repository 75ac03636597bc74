// The ComputeBackend that libmlc_compute.so hands to the mlc binary, and the boundary where
// libtorch's exceptions become mlc::Error.
#include <torch/version.h>

#include <exception>
#include <filesystem>
#include <string>

#include "evaluator.hpp"
#include "exporter.hpp"
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

  TorchScriptInfo inspect_torchscript(const std::filesystem::path& file) override { return translating_errors([&] { return compute::inspect_torchscript(file); }); }

  std::string torch_version() const override { return TORCH_VERSION; }
};

}  // namespace

}  // namespace mlc::compute

extern "C" __attribute__((visibility("default"))) mlc::ComputeBackend* mlc_compute_backend() {
  static mlc::compute::TorchBackend backend;
  return &backend;
}
