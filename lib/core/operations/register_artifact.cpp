#include <fmt/format.h>

#include "common.hpp"
#include "mlc/json_output.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/json_input.hpp"
#include "mlc/json_schema.hpp"
#include "mlc/reference.hpp"
#include "mlc/sha256.hpp"
#include "mlc/writer_lock.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

nlohmann::json read_manifest(const fs::path& file) {
  nlohmann::json manifest = read_json_file(file);
  validate_json(manifest, embedded_schema("artifact-manifest.schema.json"), file.string());
  return manifest;
}

// A manifest that contradicts the file it describes is refused rather than recorded.
void check_manifest_matches(const nlohmann::json& manifest, const fs::path& manifest_file,
                            const fs::path& artifact, const std::string& sha256,
                            const TorchScriptInfo& info) {
  if (manifest.contains("model_file") && manifest["model_file"].contains("sha256") &&
      manifest["model_file"]["sha256"] != sha256) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: model_file.sha256 is {}, but {} hashes to {}", manifest_file.string(),
                            manifest["model_file"]["sha256"].get<std::string>(), artifact.string(), sha256));
  }
  if (manifest.contains("inputs") && manifest["inputs"].size() != info.input_names.size()) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: inputs: {} tensors, but forward() of {} takes {} ({})",
                            manifest_file.string(), manifest["inputs"].size(), artifact.string(),
                            info.input_names.size(), info.forward_schema));
  }
}

nlohmann::json info_json(const TorchScriptInfo& info) {
  return {{"forward", info.forward_schema},
          {"input_names", info.input_names},
          {"input_types", info.input_types},
          {"output_type", info.output_type},
          {"parameter_tensors", info.parameter_tensors},
          {"parameters", info.parameters},
          {"dtypes", info.dtypes}};
}

}  // namespace

RegisterArtifactOutcome register_artifact(const Session& session, const RegisterArtifactOptions& options) {
  // Everything that can be wrong with the input is found before anything is written.
  check_name(options.model_name, "model name");
  const fs::path artifact = fs::absolute(options.artifact).lexically_normal();
  if (!fs::is_regular_file(artifact)) throw Error(ErrorKind::not_found, "cannot read " + artifact.string());
  nlohmann::json given = nlohmann::json::object();
  std::optional<fs::path> manifest_file;
  if (options.manifest) {
    manifest_file = fs::absolute(*options.manifest).lexically_normal();
    given = read_manifest(*manifest_file);
  }
  const std::string checked_sha256 = sha256_file(artifact);
  ComputeBackend& backend = load_compute_backend();
  const TorchScriptInfo info = backend.inspect_torchscript(artifact);
  const std::string torch_version = backend.torch_version();

  if (manifest_file) check_manifest_matches(given, *manifest_file, artifact, checked_sha256, info);

  Catalog catalog(session.home, Catalog::Mode::create);
  const ArtifactStore store = detail::artifact_store(session);
  const std::string model_sha256 = store.put(artifact);
  if (model_sha256 != checked_sha256) {  // the checks above were made on other bytes
    throw Error(ErrorKind::integrity, fmt::format("{} changed while it was being registered: its sha256 was {}, "
                                                  "it is now {}", artifact.string(), checked_sha256, model_sha256));
  }
  const LockedTempDir work(session.home, "register-");

  RegisterArtifactOutcome outcome;
  outcome.inspection = info;
  outcome.version = catalog.in_transaction([&] {
    store.ensure_stored(model_sha256, artifact);
    const int64_t number = catalog.next_version_number(options.model_name);
    nlohmann::json manifest = {
        {"name", options.model_name},
        {"versions", {std::to_string(number)}},
        {"platform", "pytorch_torchscript"},
        {"inputs", given.value("inputs", nlohmann::json::array())},
        {"outputs", given.value("outputs", nlohmann::json::array())},
        {"task", given.value("task", "classification")},
        {"labels", given.value("labels", nlohmann::json::array())},
        {"feature_names", given.value("feature_names", nlohmann::json::array())},
        {"preprocessing", given.value("preprocessing", nlohmann::json::object())},
        {"model_file", {{"format", "torchscript"}, {"sha256", model_sha256}}},
        {"created_at", utc_now()},
        {"mlc_version", mlc_version()},
        {"torch_version", torch_version},
        {"source", {{"file", artifact.string()},
                    {"manifest_file", manifest_file ? nlohmann::json(manifest_file->string()) : nlohmann::json(nullptr)},
                    {"torchscript", info_json(info)}}}};
    const fs::path manifest_path = work.path() / "manifest.json";
    write_file_atomically(manifest_path, manifest.dump(2) + "\n");

    NewVersion version;
    version.model = options.model_name;
    version.origin = Origin::artifact;
    version.model_sha256 = model_sha256;
    version.manifest_sha256 = store.put(manifest_path);
    version.description = options.description;
    version.tags = options.tags;
    version.model_info = {{"task", given.value("task", "classification")}};
    if (given.contains("labels")) version.model_info["class_names"] = given["labels"];
    if (given.contains("feature_names")) version.model_info["feature_names"] = given["feature_names"];
    if (given.contains("preprocessing")) version.model_info["preprocessing"] = given["preprocessing"];
    version.lineage = {{"mlc_version", mlc_version()},
                       {"torch_version", torch_version},
                       {"git_commit", detail::git_commit_of_working_directory()},
                       {"source_file", artifact.string()},
                       {"source_sha256", model_sha256},
                       {"manifest_file", manifest_file ? nlohmann::json(manifest_file->string()) : nlohmann::json(nullptr)},
                       {"command", session.command_line}};
    VersionRecord record = catalog.create_version(
        version, detail::note_for(session, "registered from " + artifact.filename().string()));
    if (record.version != number) throw Error(ErrorKind::internal, "version number changed under the lock");
    if (given.contains("metrics")) {
      EvaluationRecord evaluation;
      evaluation.at = utc_now();
      evaluation.origin = "manifest";
      evaluation.gates = nlohmann::json::array();
      for (const auto& [name, value] : given["metrics"].items()) evaluation.metrics[name] = value;
      catalog.record_evaluation(record, evaluation,
                                detail::note_for(session, evaluation_text(evaluation)));
    }
    outcome.manifest = std::move(manifest);
    return record;
  });
  return outcome;
}

}  // namespace mlc
