#include <fmt/format.h>

#include "common.hpp"
#include "export_files.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/json_input.hpp"
#include "mlc/sha256.hpp"
#include "mlc/writer_lock.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace detail {

nlohmann::json build_manifest(const VersionRecord& version, const ExportResult& exported,
                              const std::string& model_sha256, const std::string& torch_version,
                              const std::string& format) {
  return {
      {"name", version.model},
      {"versions", {std::to_string(version.version)}},
      {"platform", format == "onnx" ? "onnxruntime_onnx" : "pytorch_torchscript"},
      {"inputs", exported.inputs},
      {"outputs", exported.outputs},
      {"task", version.model_info.value("task", "classification")},
      {"labels", version.model_info.value("class_names", nlohmann::json::array())},
      {"feature_names", version.model_info.value("feature_names", nlohmann::json::array())},
      {"preprocessing", version.model_info.at("preprocessing")},
      {"model_file", {{"format", format}, {"sha256", model_sha256}}},
      {"created_at", utc_now()},
      {"mlc_version", mlc_version()},
      {"torch_version", torch_version},
  };
}

}  // namespace detail

namespace {

constexpr std::string_view kManifestSuffix = ".manifest.json";

bool ends_with(const std::string& text, std::string_view tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

namespace detail {

void write_out(const ArtifactStore& store, const std::string& model_sha256,
               const std::string& manifest_sha256, const std::optional<OutPaths>& out) {
  if (!out) return;
  try {
    fs::create_directories(out->model_file.parent_path());
    copy_file_atomically(store.path_of(model_sha256), out->model_file);
    copy_file_atomically(store.path_of(manifest_sha256), out->manifest_file);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::invalid_input, "--out " + out->model_file.string() + ": cannot write: " + e.what());
  }
}

namespace {

fs::path checked_out_path(const Home& home, const fs::path& out, const std::string& default_name) {
  fs::path requested = out;
  // A directory (one that exists, or a path ending in '/') gets the file under its default name.
  std::error_code error;  // a name too long or a loop of links: refused below, when it is opened
  if (!requested.has_filename() || fs::is_directory(requested, error)) requested /= default_name;
  const fs::path model_file = fs::absolute(requested).lexically_normal();
  if (ends_with(model_file.filename().string(), kManifestSuffix)) {
    throw Error(ErrorKind::usage, "--out " + requested.string() + ": names ending in " +
                                      std::string(kManifestSuffix) + " are for the manifest beside the model");
  }
  // The home's files are mlc's own (the catalogue, the store, live deployments): an export there
  // would overwrite them. Resolved, so that a link into the home is caught too; the directory
  // too, where the manifest goes, should the model file be a link out of it.
  if (detail::resolves_inside(model_file.parent_path(), home.root) ||
      detail::resolves_inside(model_file, home.root)) {
    throw Error(ErrorKind::usage, "--out " + requested.string() + " is inside MLC_HOME (" +
                                      home.root.string() + "); export to a path outside it");
  }
  return model_file;
}

}  // namespace
}  // namespace detail

fs::path manifest_path_for(const fs::path& model_file) {
  return model_file.parent_path() / (model_file.stem().string() + std::string(kManifestSuffix));
}

namespace detail {
namespace {

// x.pt and x.torchscript share x.manifest.json: a manifest already there may be replaced only with
// the model file it describes (by sha256), never one of another file beside it.
void check_manifest_is_replaceable(const fs::path& model_file, const fs::path& manifest_file) {
  std::error_code error;
  if (fs::symlink_status(manifest_file, error).type() == fs::file_type::not_found) return;
  if (error) {  // a name too long, a directory that cannot be searched
    throw Error(ErrorKind::usage, fmt::format("--out {}: {}", model_file.string(), error.message()));
  }
  std::string described;
  try {
    described = parse_json(read_json_text(manifest_file), manifest_file.string())
                    .at("model_file").at("sha256").get<std::string>();
  } catch (const std::exception&) {
    described.clear();  // not a manifest mlc wrote: never overwritten
  }
  const bool ours = !described.empty() && fs::is_regular_file(model_file, error) &&
                    sha256_file(model_file) == described;
  if (!ours) {
    throw Error(ErrorKind::usage,
                fmt::format("--out {}: {} is there already and describes another model file; export "
                            "under another name, or remove it",
                            model_file.string(), manifest_file.filename().string()));
  }
}

}  // namespace

std::optional<OutPaths> checked_out_paths(const Home& home, const std::optional<fs::path>& out,
                                          const std::string& default_name) {
  if (!out) return std::nullopt;
  OutPaths paths;
  paths.model_file = checked_out_path(home, *out, default_name);
  paths.manifest_file = manifest_path_for(paths.model_file);
  check_manifest_is_replaceable(paths.model_file, paths.manifest_file);
  return paths;
}

}  // namespace detail

ExportOutcome export_version(const Session& session, const ExportOptions& options) {
  if (options.variant || options.variant_name) return detail::export_variant(session, options);
  Catalog catalog(session.home, Catalog::Mode::existing);
  const ArtifactStore store = detail::artifact_store(session);
  VersionRecord version = catalog.resolve(options.ref);
  next_state(Action::export_model, version.state, detail::subject(version));
  const auto out = detail::checked_out_paths(session.home, options.out,
                                             fmt::format("{}-v{}.pt", version.model, version.version));

  if (version.model_sha256) {  // exported before: the same stored bytes again
    store.verify(*version.model_sha256);
    store.verify(*version.manifest_sha256);
    detail::write_out(store, *version.model_sha256, *version.manifest_sha256, out);
  } else {
    ComputeBackend& backend = load_compute_backend();
    const LockedTempDir work(session.home, "export-");
    const fs::path built = work.path() / "model.pt";
    const ExportResult exported = backend.export_torchscript(detail::trained_model(session, version), built);
    const std::string model_sha256 = store.put(built);
    const nlohmann::json manifest = detail::build_manifest(version, exported, model_sha256, backend.torch_version());
    const fs::path manifest_path = work.path() / "manifest.json";
    write_file_atomically(manifest_path, manifest.dump(2) + "\n");
    const std::string manifest_sha256 = store.put(manifest_path);

    // The files reach --out inside the transaction: if they cannot be written, nothing is recorded.
    version = catalog.in_transaction([&] {
      VersionRecord current = catalog.resolve(detail::reference_to(version));
      const State next = next_state(Action::export_model, current.state, detail::subject(current));
      if (!current.model_sha256) {  // else another process exported it meanwhile: use its files
        store.ensure_stored(model_sha256, built);
        store.ensure_stored(manifest_sha256, manifest_path);
        catalog.set_export(current.id, model_sha256, manifest_sha256);
        catalog.record_transition(current, next, detail::note_for(session, "exported to TorchScript"));
        current.state = next;
        current.model_sha256 = model_sha256;
        current.manifest_sha256 = manifest_sha256;
      }
      detail::write_out(store, *current.model_sha256, *current.manifest_sha256, out);
      return current;
    });
  }
  nlohmann::json manifest = read_json_file(store.path_of(*version.manifest_sha256));
  return ExportOutcome{std::move(version), out ? std::optional(out->model_file) : std::nullopt,
                       out ? std::optional(out->manifest_file) : std::nullopt, std::move(manifest), std::nullopt};
}

}  // namespace mlc
