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

// A config value as compact text: 3, 0.1, [3, 3], true.
std::string value_text(const nlohmann::json& value) {
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(value_text(item));
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  return printable(value.is_string() ? value.get<std::string>()
                                     : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// "KEY VALUE" for each key the config states, as "hidden size 64".
std::string stated(const nlohmann::json& section, std::initializer_list<std::pair<const char*, const char*>> keys) {
  std::vector<std::string> parts;
  for (const auto& [key, label] : keys) {
    if (section.contains(key) && !section[key].is_null()) parts.push_back(fmt::format("{} {}", label, value_text(section[key])));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// One CNN layer: its type and the sizes that define it ("conv2d 32 kernel 3", "max_pool2d kernel 2").
std::string cnn_layer_text(const nlohmann::json& layer) {
  const std::string type = layer.value("type", "?");
  const std::string sizes = stated(layer, {{"out_channels", "out"}, {"out_features", "out"}, {"kernel_size", "kernel"},
                                           {"stride", "stride"}, {"padding", "padding"}, {"p", "p"}});
  return sizes.empty() ? printable(type) : printable(type) + " " + sizes;
}

// The architecture's layers as the config states them, one line per fact.
std::string architecture_lines(const nlohmann::json& model) {
  const std::string architecture = model.value("architecture", "");
  std::string text = fmt::format("  architecture {}\n", printable(architecture));
  const auto line = [&](const std::string& facts) {
    if (!facts.empty()) text += fmt::format("  layers       {}\n", facts);
  };
  if (architecture == "mlp") {
    const auto& hidden = model.contains("hidden_layers") ? model["hidden_layers"] : nlohmann::json::array();
    line(fmt::format("hidden {}{}", hidden.empty() ? "none (linear)" : value_text(hidden),
                     [&] {
                       const std::string rest = stated(model, {{"activation", "activation"}, {"dropout", "dropout"},
                                                               {"batch_norm", "batch norm"}});
                       return rest.empty() ? rest : ", " + rest;
                     }()));
  } else if (architecture == "cnn" && model.contains("layers") && model["layers"].is_array()) {
    for (const auto& layer : model["layers"]) line(cnn_layer_text(layer));
  } else if (architecture == "lstm" || architecture == "gru") {
    line(stated(model, {{"hidden_size", "hidden size"}, {"num_layers", "layers"}, {"bidirectional", "bidirectional"},
                        {"dropout", "dropout"}, {"pooling", "pooling"}}));
  } else if (architecture == "transformer") {
    line(stated(model, {{"d_model", "d_model"}, {"nhead", "heads"}, {"num_layers", "layers"},
                        {"dim_feedforward", "feedforward"}, {"patch_size", "patch size"}, {"dropout", "dropout"},
                        {"pooling", "pooling"}}));
  }
  return text;
}

// The optimizer and learning rate (and schedule) from the config's "training" section.
std::string optimizer_line(const nlohmann::json& config) {
  if (!config.contains("training") || !config["training"].contains("optimizer")) return "";
  const auto& optimizer = config["training"]["optimizer"];
  std::string text = fmt::format("  optimizer    {}", printable(optimizer.value("name", "?")));
  if (optimizer.contains("learning_rate")) text += ", learning rate " + value_text(optimizer["learning_rate"]);
  const auto& training = config["training"];
  if (training.contains("schedule") && training["schedule"].is_object() && training["schedule"].contains("name")) {
    text += ", schedule " + value_text(training["schedule"]["name"]);
  }
  return text + "\n";
}

std::string human_detail(const VersionRecord& version, const std::vector<EpochMetrics>& epochs,
                         const std::optional<EvaluationRecord>& evaluation,
                         const std::vector<VariantRecord>& variants) {
  std::string text = fmt::format("{}  {}\n", subject(version), to_string(version.state));
  text += fmt::format("  created      {}\n", version.created_at);
  if (!version.description.empty()) text += fmt::format("  description  {}\n", printable(version.description));
  for (const auto& [key, value] : version.tags) {
    text += fmt::format("  tag          {}={}\n", printable(key), printable(value));
  }
  if (!version.targets.empty()) {
    std::vector<std::string> where;  // "production (int8)" where a variant stands
    for (const auto& target : version.targets) {
      const auto variant = version.target_variants.find(target);
      where.push_back(variant == version.target_variants.end()
                          ? target
                          : fmt::format("{} ({})", target, printable(variant->second)));
    }
    text += fmt::format("  deployed to  {}\n", fmt::join(where, ", "));
  }
  if (!version.aliases.empty()) text += fmt::format("  aliases      {}\n", fmt::join(version.aliases, ", "));
  if (version.origin == Origin::train) {
    text += architecture_lines(version.config.at("model"));
    text += optimizer_line(version.config);
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
  for (const VariantRecord& variant : variants) {
    text += fmt::format("  variant      {}, sha256 {}\n", variant_text(variant), variant.model_sha256);
  }
  if (version.artifacts_purged_at) text += fmt::format("  artifacts    deleted by gc --purge-retired at {}\n", *version.artifacts_purged_at);
  for (const auto& file : version.data_files) {
    text += fmt::format("  data         {} {} (sha256 {})\n", file.role, printable(file.path), file.sha256);
  }
  return text;
}

void run_show(const std::string& ref_text, CliState& state) {
  const Reference ref = parse_reference(ref_text);
  const VersionDetail detail = show_version(state.session(), ref);
  const VersionRecord& version = detail.version;
  const auto& epochs = detail.epochs;
  const auto& evaluation = detail.evaluation;
  const auto& variants = detail.variants;
  nlohmann::json document = version_detail_json(version, epochs, evaluation);
  document["variants"] = nlohmann::json::array();
  for (const VariantRecord& variant : variants) document["variants"].push_back(variant_json(variant));
  document["target_variants"] = nlohmann::json::object();
  for (const auto& target : version.targets) {
    const auto variant = version.target_variants.find(target);
    document["target_variants"][target] = variant == version.target_variants.end()
                                              ? nlohmann::json(nullptr)
                                              : nlohmann::json(variant->second);
  }
  state.print(document, human_detail(version, epochs, evaluation, variants));
}

}  // namespace

void setup_show(CLI::App& app, CliState& state) {
  auto ref = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("show", "Show one version: state, metrics, lineage");
  command->add_option("ref", *ref, "NAME, NAME:VERSION or NAME@TARGET")->required();
  command->callback([ref, &state] { run_show(*ref, state); });
}

}  // namespace mlc::cli
