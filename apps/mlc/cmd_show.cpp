#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

// The table of epochs, one column per metric, the kept epoch marked with '*'.
std::string learning_curve(const VersionRecord& version, const std::vector<EpochMetrics>& epochs) {
  if (epochs.empty()) return "";
  const int kept = version.model_info.contains("training")
                       ? version.model_info["training"].value("best_epoch", 0)
                       : static_cast<int>(epochs.size());
  std::string text = "  epoch  train_loss";
  for (const auto& metric : epochs.front().validation) text += fmt::format("  {:>14}", "val_" + metric.first);
  text += "\n";
  for (const auto& epoch : epochs) {
    text += fmt::format("  {:>4}{}  {:>10.4f}", epoch.epoch, epoch.epoch == kept ? "*" : " ",
                        epoch.train_loss);
    for (const auto& metric : epoch.validation) text += fmt::format("  {:>14.4f}", metric.second);
    text += "\n";
  }
  return text;
}

// Where the version came from, one line per fact that is known.
std::string lineage_lines(const nlohmann::json& lineage) {
  std::string text;
  auto line = [&](const char* label, const char* key) {
    if (!lineage.contains(key) || lineage[key].is_null() || lineage[key] == "") return;
    const auto& value = lineage[key];
    text += fmt::format("  {:<12} {}\n", label,
                        printable(value.is_string() ? value.get<std::string>()
                                                    : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  };
  line("run", "run");
  line("resumed", "resumed");
  line("resumed from", "resumed_from");
  line("fine-tuned", "fine_tuned_from");
  line("config file", "config_file");
  line("git commit", "git_commit");
  line("mlc", "mlc_version");
  line("libtorch", "torch_version");
  return text;
}

// A classifier's evaluation per class: precision, recall, F1 and support, one row per class, then
// the confusion matrix (rows: true class, columns: predicted, in the same order).
std::string per_class_lines(const EvaluationRecord& evaluation) {
  if (!evaluation.details.is_object() || !evaluation.details.contains("class_names")) return "";
  std::vector<std::string> names;
  size_t width = 5;
  for (const auto& name : evaluation.details.at("class_names")) {
    names.push_back(printable(name.get<std::string>()));
    width = std::max(width, names.back().size());
  }
  const auto metric = [&](const char* kind, size_t index) {
    const auto found = evaluation.metrics.find(fmt::format("{}[{}]", kind, evaluation.details["class_names"][index].get<std::string>()));
    return found == evaluation.metrics.end() ? 0.0 : found->second;
  };
  std::string text = fmt::format("  {:<{}}  precision  recall      f1  support\n", "class", width + 2);
  for (size_t i = 0; i < names.size(); ++i) {
    text += fmt::format("    {:<{}}  {:>9.4f}  {:>6.4f}  {:>6.4f}  {:>7}\n", names[i], width, metric("precision", i),
                        metric("recall", i), metric("f1", i), static_cast<int64_t>(metric("support", i)));
  }
  text += "  confusion matrix (rows: true class, columns: predicted, in the order above)\n";
  for (size_t i = 0; i < names.size(); ++i) {
    text += fmt::format("    {:<{}} ", names[i], width);
    for (const auto& count : evaluation.details.at("confusion_matrix").at(i)) text += fmt::format(" {:>5}", count.get<int64_t>());
    text += "\n";
  }
  return text;
}

std::string human_detail(const VersionRecord& version, const std::vector<EpochMetrics>& epochs,
                         const std::optional<EvaluationRecord>& evaluation) {
  std::string text = fmt::format("{}  {}\n", subject(version), to_string(version.state));
  text += fmt::format("  created      {}\n", version.created_at);
  if (!version.description.empty()) text += fmt::format("  description  {}\n", printable(version.description));
  for (const auto& [key, value] : version.tags) {
    text += fmt::format("  tag          {}={}\n", printable(key), printable(value));
  }
  if (!version.targets.empty()) text += fmt::format("  deployed to  {}\n", fmt::join(version.targets, ", "));
  if (!version.aliases.empty()) text += fmt::format("  aliases      {}\n", fmt::join(version.aliases, ", "));
  if (version.origin == Origin::train) {
    text += fmt::format("  architecture {}\n", version.config.at("model").at("architecture").get<std::string>());
    text += fmt::format("  training     {} samples, {:.1f} s, {:.0f} samples/s\n", version.train_samples,
                        version.train_seconds, version.samples_per_second);
    text += learning_curve(version, epochs);
  } else {
    text += fmt::format("  origin       registered from {}\n",
                        printable(version.lineage.value("source_file", "a TorchScript file")));
  }
  if (evaluation) {
    const std::string metrics = metrics_text(evaluation->metrics);
    text += evaluation->origin == "manifest"
                ? fmt::format("  metrics      {} (self-reported by its manifest, not measured by mlc; "
                              "a policy never counts them)\n", metrics)
                : fmt::format("  evaluation   {} on {} samples ({})\n", metrics, evaluation->samples, evaluation->at);
    if (evaluation->origin != "manifest") {
      const std::string on = !evaluation->on_test_split ? "not recorded (catalogue schema 3 or older)"
                             : *evaluation->on_test_split ? "its test split"
                                                          : "other data (--data)";
      text += fmt::format("  tested on    {}{}\n", on,
                          evaluation->data_fingerprint.empty() ? "" : ", data fingerprint " + evaluation->data_fingerprint);
    }
    text += per_class_lines(*evaluation);
  }
  text += lineage_lines(version.lineage);
  if (!version.checkpoint_sha256.empty()) text += fmt::format("  checkpoint   sha256 {}\n", version.checkpoint_sha256);
  if (version.model_sha256) text += fmt::format("  model        sha256 {}\n", *version.model_sha256);
  if (version.artifacts_purged_at) text += fmt::format("  artifacts    deleted by gc --purge-retired at {}\n", *version.artifacts_purged_at);
  for (const auto& file : version.data_files) {
    text += fmt::format("  data         {} {} (sha256 {})\n", file.role, printable(file.path), file.sha256);
  }
  return text;
}

void run_show(const std::string& ref_text, CliState& state) {
  const Reference ref = parse_reference(ref_text);
  Catalog catalog(state.session().home, Catalog::Mode::existing);
  const VersionRecord version = catalog.resolve(ref);
  const auto epochs = catalog.epochs(version.id);
  const auto evaluation = catalog.latest_evaluation(version.id);
  state.print(version_detail_json(version, epochs, evaluation), human_detail(version, epochs, evaluation));
}

}  // namespace

void setup_show(CLI::App& app, CliState& state) {
  auto ref = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("show", "Show one version: state, metrics, lineage");
  command->add_option("ref", *ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->callback([ref, &state] { run_show(*ref, state); });
}

}  // namespace mlc::cli
