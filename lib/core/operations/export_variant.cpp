// mlc export REF --variant KIND: an optimised copy of a version, measured beside its fp32 export on
// the version's test split, gated by --max-drop, and recorded as a variant of the version.
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "export_files.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/json_input.hpp"
#include "mlc/listing.hpp"
#include "mlc/reference.hpp"
#include "mlc/text.hpp"
#include "mlc/writer_lock.hpp"

namespace mlc {
namespace fs = std::filesystem;

namespace detail {
namespace {

// Error(usage) for prune options that do not fit, before any work: --fraction outside (0, 1),
// --finetune-epochs below 0, either without --variant prune, or --variant prune without
// --fraction; and for --max-drop on an ONNX variant, which mlc cannot run to measure.
void check_prune_options(VariantKind kind, const ExportOptions& options) {
  if (kind != VariantKind::prune) {
    if (options.prune_fraction || options.finetune_epochs) {
      throw Error(ErrorKind::usage, fmt::format("{} needs --variant prune",
                                                options.prune_fraction ? "--fraction" : "--finetune-epochs"));
    }
  } else if (!options.prune_fraction) {
    throw Error(ErrorKind::usage, "--variant prune needs --fraction F, the fraction of units to remove (0 < F < 1)");
  } else if (!(*options.prune_fraction > 0 && *options.prune_fraction < 1)) {
    throw Error(ErrorKind::usage, fmt::format("--fraction {}: expected a fraction of units to remove, 0 < F < 1",
                                              *options.prune_fraction));
  } else if (options.finetune_epochs && *options.finetune_epochs < 0) {
    throw Error(ErrorKind::usage, fmt::format("--finetune-epochs {}: expected 0 or more", *options.finetune_epochs));
  }
  if (kind == VariantKind::onnx && !options.max_drops.empty()) {
    throw Error(ErrorKind::usage, "--max-drop with --variant onnx: mlc has no ONNX runtime to measure the "
                                  "variant with, so there is no drop to limit");
  }
}

// Error(usage) for a metric the measurement lacks; Error(gate_failed) for a drop beyond the limit.
void check_max_drops(const std::vector<MaxDrop>& limits, const VariantResult& measured,
                     const std::string& subject) {
  for (const MaxDrop& limit : limits) {
    const auto judged = judge_drop(limit, measured.fp32.metrics, measured.variant.metrics);
    if (!judged) {
      std::vector<std::string> names;
      for (const auto& [name, value] : measured.fp32.metrics) {
        if (name.find('[') == std::string::npos) names.push_back(name);
      }
      throw Error(ErrorKind::usage,
                  fmt::format("--max-drop {}: {} measures no such metric (it has: {}); nothing stored",
                              printable(limit.metric), subject, fmt::join(names, ", ")));
    }
    if (!judged->passes()) {
      throw Error(ErrorKind::gate_failed,
                  fmt::format("{}: {} went from {:.6g} (fp32) to {:.6g}, a drop of {:.3g}, more than "
                              "--max-drop {}; nothing stored",
                              subject, limit.metric, judged->fp32, judged->variant, judged->drop, to_string(limit)));
    }
  }
}

nlohmann::json variant_manifest(const VersionRecord& version, const VariantRecord& variant,
                                 const VariantResult& measured, const std::string& torch_version) {
  nlohmann::json manifest =
      build_manifest(version, measured.metadata, variant.model_sha256, torch_version, variant.format);
  manifest["variant"] = {{"name", variant.name},
                         {"kind", std::string(to_string(variant.kind))},
                         {"format", variant.format},
                         {"optimisation", variant.details},
                         {"samples", variant.samples},
                         {"data_fingerprint", variant.data_fingerprint},
                         {"metrics", variant.variant.metrics},
                         {"fp32_metrics", variant.fp32.metrics}};
  return manifest;
}

// The history row's reason: "variant int8 (int8) exported: accuracy 0.9722 -> 0.9667 (fp32 -> int8)".
std::string variant_reason(const VariantRecord& variant) {
  std::string text = fmt::format("variant {} ({}) exported", variant.name, to_string(variant.kind));
  for (const std::string& metric : headline_metrics()) {
    const auto fp32 = variant.fp32.metrics.find(metric);
    const auto optimised = variant.variant.metrics.find(metric);
    if (fp32 == variant.fp32.metrics.end() || optimised == variant.variant.metrics.end()) continue;
    return text + fmt::format(": {} {:.4f} -> {:.4f} (fp32 -> {})", metric, fp32->second,
                              optimised->second, variant.name);
  }
  return text;
}


// An ONNX file named like a TorchScript one would be handed to torch.jit.load: --out FILE must end
// in .onnx (a directory gets NAME-vVERSION-VARIANT.onnx).
void check_out_extension(const std::optional<OutPaths>& out, const std::string& format) {
  if (out && format == "onnx" && out->model_file.extension() != ".onnx") {
    throw Error(ErrorKind::usage, fmt::format("--out {}: an onnx variant's file name must end in .onnx",
                                              printable(out->model_file.string())));
  }
}

// --variant-name NAME without --variant: the variant made before, its stored files copied out.
ExportOutcome stored_variant(const Session& session, const ExportOptions& options) {
  const Catalog catalog(session.home, Catalog::Mode::existing);
  const ArtifactStore store = artifact_store(session);
  const VersionRecord version = catalog.resolve(options.ref);
  next_state(Action::export_model, version.state, subject(version));
  VariantRecord variant = variant_of(catalog, version, *options.variant_name);  // not_found, listing them
  const auto out = checked_out_paths(
      session.home, options.out,
      fmt::format("{}-v{}-{}{}", version.model, version.version, variant.name, variant.format == "onnx" ? ".onnx" : ".pt"));
  check_out_extension(out, variant.format);
  store.verify(variant.model_sha256);
  store.verify(variant.manifest_sha256);
  write_out(store, variant.model_sha256, variant.manifest_sha256, out);
  nlohmann::json manifest = read_json_file(store.path_of(variant.manifest_sha256));
  return ExportOutcome{version, out ? std::optional(out->model_file) : std::nullopt,
                       out ? std::optional(out->manifest_file) : std::nullopt, std::move(manifest),
                       std::move(variant)};
}

}  // namespace

ExportOutcome export_variant(const Session& session, const ExportOptions& options) {
  if (!options.variant) return stored_variant(session, options);
  const VariantKind kind = *options.variant;
  const std::string name = options.variant_name.value_or(std::string(to_string(kind)));
  check_name(name, "--variant-name");
  if (name == "fp32") {
    throw Error(ErrorKind::usage, "--variant-name fp32: that names the plain export (mlc export without --variant); "
                                  "name the variant otherwise");
  }
  check_prune_options(kind, options);
  Catalog catalog(session.home, Catalog::Mode::existing);
  const ArtifactStore store = artifact_store(session);
  const VersionRecord version = catalog.resolve(options.ref);
  next_state(Action::export_model, version.state, subject(version));
  require_checkpoint(version);
  const std::string variant_subject = fmt::format("{} variant {}", subject(version), name);
  for (const VariantRecord& existing : catalog.variants(version.id)) {
    if (existing.name == name) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} has a variant named '{}' already ({}); name another with --variant-name, "
                              "or copy it out with mlc export {}:{} --variant-name {} --out FILE",
                              subject(version), name, to_string(existing.kind), version.model, version.version, name));
    }
  }
  const std::string extension = kind == VariantKind::onnx ? ".onnx" : ".pt";
  const auto out = checked_out_paths(session.home, options.out,
                                     fmt::format("{}-v{}-{}{}", version.model, version.version, name, extension));
  check_out_extension(out, kind == VariantKind::onnx ? "onnx" : "torchscript");

  ComputeBackend& backend = load_compute_backend();
  const LockedTempDir work(session.home, "variant-");
  VariantRequest request;
  request.model = trained_model(session, version);
  request.data = evaluation_data(version, std::nullopt, std::nullopt);
  request.kind = kind;
  request.prune_fraction = options.prune_fraction.value_or(0);
  request.finetune_epochs = options.finetune_epochs.value_or(0);
  request.quantization = options.quantization.value_or(Quantization::by_architecture);
  request.out = work.path() / ("model" + extension);
  const VariantResult measured = backend.export_variant(request);
  check_max_drops(options.max_drops, measured, variant_subject);

  VariantRecord variant;
  variant.name = name;
  variant.kind = kind;
  variant.format = measured.format;
  variant.model_sha256 = store.put(request.out);
  variant.created_at = utc_now();
  variant.details = measured.details;
  variant.fp32 = measured.fp32;
  variant.variant = measured.variant;
  variant.samples = measured.samples;
  variant.data_fingerprint = measured.data_fingerprint;
  const fs::path manifest_path = work.path() / "manifest.json";
  write_file_atomically(manifest_path,
                        variant_manifest(version, variant, measured, backend.torch_version()).dump(2) + "\n");
  variant.manifest_sha256 = store.put(manifest_path);

  // The files reach --out inside the transaction: if they cannot be written, nothing is recorded.
  const VersionRecord current = catalog.in_transaction([&] {
    VersionRecord now = catalog.resolve(reference_to(version));
    next_state(Action::export_model, now.state, subject(now));
    store.ensure_stored(variant.model_sha256, request.out);
    store.ensure_stored(variant.manifest_sha256, manifest_path);
    catalog.record_variant(now, variant, note_for(session, variant_reason(variant)));
    write_out(store, variant.model_sha256, variant.manifest_sha256, out);
    return now;
  });
  nlohmann::json manifest = read_json_file(store.path_of(variant.manifest_sha256));
  return ExportOutcome{current, out ? std::optional(out->model_file) : std::nullopt,
                       out ? std::optional(out->manifest_file) : std::nullopt, std::move(manifest),
                       std::move(variant)};
}

}  // namespace detail
}  // namespace mlc
