#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

struct ExportFlags {
  std::string ref;
  std::optional<std::string> out;
  std::optional<std::string> variant;
  std::optional<std::string> variant_name;
  std::vector<std::string> max_drops;
  std::optional<double> fraction;
  std::optional<int64_t> finetune_epochs;
  std::optional<std::string> quantization;
};

// --quantization static|dynamic, only with --variant int8.
std::optional<Quantization> quantization_of(const ExportFlags& flags, std::optional<VariantKind> kind) {
  if (!flags.quantization) return std::nullopt;
  if (kind != VariantKind::int8) throw Error(ErrorKind::usage, "--quantization needs --variant int8");
  if (*flags.quantization == "static") return Quantization::static_int8;
  if (*flags.quantization == "dynamic") return Quantization::dynamic;
  throw Error(ErrorKind::usage,
              fmt::format("--quantization '{}': expected static or dynamic", printable(*flags.quantization)));
}

void run_export(const ExportFlags& flags, CliState& state) {
  ExportOptions options;
  options.ref = parse_reference(flags.ref);
  if (flags.out) options.out = *flags.out;
  if (flags.variant) {
    options.variant = variant_kind_from_string(*flags.variant);
    if (!options.variant) {
      throw Error(ErrorKind::usage,
                  fmt::format("--variant '{}': expected fp16, int8, prune or onnx", printable(*flags.variant)));
    }
  } else if (!flags.max_drops.empty() || flags.fraction || flags.finetune_epochs) {
    // --variant-name alone names a variant made before: its stored files are copied out.
    throw Error(ErrorKind::usage, fmt::format("{} needs --variant", flags.fraction          ? "--fraction"
                                                                    : flags.finetune_epochs ? "--finetune-epochs"
                                                                                            : "--max-drop"));
  }
  options.variant_name = flags.variant_name;
  options.prune_fraction = flags.fraction;
  options.finetune_epochs = flags.finetune_epochs;
  options.quantization = quantization_of(flags, options.variant);
  for (const std::string& text : flags.max_drops) options.max_drops.push_back(parse_max_drop(text, "--max-drop", ErrorKind::usage));
  const ExportOutcome outcome = export_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  document["model_file"] = outcome.model_file ? nlohmann::json(outcome.model_file->string()) : nlohmann::json(nullptr);
  document["manifest_file"] = outcome.manifest_file ? nlohmann::json(outcome.manifest_file->string()) : nlohmann::json(nullptr);
  if (outcome.variant) {
    document["model_sha256"] = outcome.variant->model_sha256;
    document["variant"] = variant_json(*outcome.variant);
  } else {
    document["model_sha256"] = *outcome.version.model_sha256;
  }
  document["manifest"] = outcome.manifest;
  const std::string sha256 = document["model_sha256"].get<std::string>();
  const std::string where =
      outcome.model_file
          ? fmt::format("written to {} (sha256 {}), {}", outcome.model_file->string(), sha256, outcome.manifest_file->string())
          : fmt::format("stored in MLC_HOME as sha256 {} (--out FILE writes a copy)", sha256);
  state.print(document, outcome.variant ? fmt::format("{} variant {}\n{}", subject(outcome.version),
                                                      variant_text(*outcome.variant), where)
                                        : fmt::format("{} exported: {}", subject(outcome.version), where));
}

}  // namespace

void setup_export(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command = app.add_subcommand("export", "Write a version as TorchScript with its manifest beside it, or an optimised variant of it (--variant)");
  command->add_option("ref", flags->ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->add_option("--out", flags->out, "Write a copy of the model file there, or into a directory DIR/ as NAME-vVERSION.pt "
                      "(NAME-vVERSION-VARIANT.pt for a variant); the manifest is FILE's name with .manifest.json. "
                      "Without it nothing is written outside MLC_HOME");
  command->add_option("--variant", flags->variant, "fp16 (half-precision weights), int8 (int8 weights), prune (a smaller "
                      "model: --fraction of its units removed) or onnx (an ONNX graph for other runtimes): an optimised copy, "
                      "measured beside the fp32 export on the test split and recorded as a variant of the version");
  command->add_option("--variant-name", flags->variant_name, "The variant's name (default: its kind; not fp32); unique per "
                      "version. Without --variant: the variant of that name made before, its stored file copied to --out");
  command->add_option("--fraction", flags->fraction, "--variant prune: the fraction of hidden units or channels removed "
                      "from each prunable layer, by weight norm (0 < F < 1)");
  command->add_option("--finetune-epochs", flags->finetune_epochs, "--variant prune: epochs of fine-tuning on the training "
                      "split after pruning (default 0)");
  command->add_option("--quantization", flags->quantization, "--variant int8: static (weights and activations int8, "
                      "activation scales calibrated on 512 training samples; convolutional models only) or dynamic "
                      "(int8 weights of Linear, LSTM and GRU layers, activations quantised at run time); default: "
                      "static for a CNN, dynamic otherwise");
  command->add_option("--max-drop", flags->max_drops, "METRIC=AMOUNT or METRIC=PERCENT%: refuse (exit 3, nothing stored) a variant that "
                      "measures worse than fp32 by more (repeatable)");
  command->callback([flags, &state] { run_export(*flags, state); });
}

}  // namespace mlc::cli
