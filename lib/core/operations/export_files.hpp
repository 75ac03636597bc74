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
// name, versions, platform, inputs, outputs), plus what a client needs to use it.
nlohmann::json build_manifest(const VersionRecord& version, const ExportResult& exported,
                              const std::string& model_sha256, const std::string& torch_version);

// --out as an absolute path: `out`, or `default_name` in the working directory; a directory (one
// that exists, or a path ending in '/') gets `default_name` inside it. Error(usage) for a name
// ending in ".manifest.json" and for a path inside MLC_HOME.
std::filesystem::path checked_out_path(const Home& home, const std::optional<std::filesystem::path>& out,
                                       const std::string& default_name);

// x.pt and x.torchscript share x.manifest.json: a manifest already there may be replaced only with
// the model file it describes (by sha256), never one of another file beside it (Error(usage)).
void check_manifest_is_replaceable(const std::filesystem::path& model_file,
                                   const std::filesystem::path& manifest_file);

// Copies the stored model and manifest to where the user asked. A path that cannot be written is
// the user's input at fault: Error(invalid_input) naming it.
void write_out(const ArtifactStore& store, const std::string& model_sha256,
               const std::string& manifest_sha256, const std::filesystem::path& model_file,
               const std::filesystem::path& manifest_file);

// export_version with options.variant set (operations.hpp says what it does and refuses).
ExportOutcome export_variant(const Session& session, const ExportOptions& options);

}  // namespace mlc::detail
