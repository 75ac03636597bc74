// What the plain export and its variants (export_variant.cpp) share: the manifest, the --out path
// and copying the stored files there. Private to lib/core/operations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/operations.hpp"

namespace mlc::detail {

// The manifest describes the model as an Open Inference Protocol server would (model metadata:
// name, versions, platform, inputs, outputs), plus what a client needs to use it. `format` is the
// model file's: "torchscript" (platform pytorch_torchscript) or "onnx" (onnxruntime_onnx, as
// Triton names it).
nlohmann::json build_manifest(const VersionRecord& version, const ExportResult& exported,
                              const std::string& model_sha256, const std::string& torch_version,
                              const std::string& format = "torchscript");

// --out as an absolute path, and its manifest's path beside it (nullopt without --out); a
// directory (one that exists, or a path ending in '/') gets `default_name` inside it.
// Error(usage) for a name ending in ".manifest.json", for a path inside MLC_HOME and for a
// manifest there already that describes another model file.
struct OutPaths {
  std::filesystem::path model_file;
  std::filesystem::path manifest_file;
};
std::optional<OutPaths> checked_out_paths(const Home& home, const std::optional<std::filesystem::path>& out,
                                          const std::string& default_name);

// Copies the stored model and manifest to `out` (nothing when nullopt). A path that cannot be
// written is the user's input at fault: Error(invalid_input) naming it.
void write_out(const ArtifactStore& store, const std::string& model_sha256,
               const std::string& manifest_sha256, const std::optional<OutPaths>& out);

// export_version with options.variant or options.variant_name set (operations.hpp says what it
// does and refuses).
ExportOutcome export_variant(const Session& session, const ExportOptions& options);

}  // namespace mlc::detail
