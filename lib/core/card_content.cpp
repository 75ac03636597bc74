// What a model card says, section by section, from the catalogue's facts about one version:
// summary, learning curves, lineage, config, history (the evaluations: card_evaluation.cpp).
// card_document.cpp renders it; nothing here escapes or formats markup.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "card_sections.hpp"
#include "mlc/markup.hpp"
#include "mlc/operations.hpp"
#include "mlc/svg_plot.hpp"

namespace mlc {
namespace card {

Fact fact(std::string label, std::string value, bool code) {
  return Fact{std::move(label), std::move(value), code};
}
Column text_column(std::string title) { return Column{std::move(title), Column::Style::text}; }
Column number_column(std::string title) { return Column{std::move(title), Column::Style::number}; }
Column code_column(std::string title) { return Column{std::move(title), Column::Style::code}; }

std::string json_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
std::string joined_or(const std::vector<std::string>& items, const char* none) {
  return items.empty() ? none : fmt::format("{}", fmt::join(items, ", "));
}

std::string metric_text(const std::string& name, double value) {
  const bool count = name.rfind("support[", 0) == 0;
  if (count || !std::isfinite(value) || (value != 0 && std::fabs(value) < 1e-3) || std::fabs(value) >= 1e6) {
    return number_text(value);
  }
  return fmt::format("{:.4f}", value);
}

Table data_files_table(const std::vector<DataFile>& files) {
  Table table{{text_column("role"), text_column("path"), code_column("sha256")}, {}};
  for (const auto& file : files) table.rows.push_back({file.role, file.path, file.sha256});
  return table;
}

}  // namespace card

namespace {

using card::Block;
using card::code_column;
using card::fact;
using card::Fact;
using card::joined_or;
using card::json_text;
using card::metric_text;
using card::number_column;
using card::Section;
using card::Table;
using card::text_column;

std::string json_block(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A string at `key` of an object, if there is one.
std::optional<std::string> string_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return std::nullopt;
  return object[key].get<std::string>();
}

std::string task_of(const VersionRecord& version) {
  if (auto task = string_at(version.model_info, "task")) return *task;
  if (version.config.is_object()) {
    if (auto task = string_at(version.config.value("data", nlohmann::json::object()), "task")) return *task;
  }
  return version.origin == Origin::train ? "classification" : "not recorded";
}

std::string architecture_of(const VersionRecord& version) {
  if (version.config.is_object()) {
    if (auto architecture = string_at(version.config.value("model", nlohmann::json::object()), "architecture")) {
      return *architecture;
    }
  }
  return "not recorded (registered from a TorchScript file)";
}

std::vector<std::string> class_names_of(const VersionRecord& version) {
  std::vector<std::string> names;
  if (version.model_info.is_object() && version.model_info.contains("class_names") &&
      version.model_info["class_names"].is_array()) {
    for (const auto& name : version.model_info["class_names"]) names.push_back(json_text(name));
  }
  return names;
}

Section summary(const CardFacts& facts) {
  const VersionRecord& version = facts.version;
  std::string creator = "not recorded";
  for (const auto& entry : facts.history) {
    if (!entry.from) {
      creator = entry.host.empty() ? entry.actor : entry.actor + " on " + entry.host;
      break;
    }
  }
  std::vector<std::string> tags;
  for (const auto& [key, value] : version.tags) tags.push_back(key + "=" + value);
  std::vector<Fact> items = {
      fact("State", std::string(to_string(version.state))),
      fact("Origin", version.origin == Origin::train ? "trained by mlc"
                                                     : "registered from a TorchScript file trained elsewhere"),
      fact("Created", version.created_at),
      fact("Created by", creator),
      fact("Description", version.description.empty() ? "none" : version.description),
      fact("Tags", joined_or(tags, "none")),
      fact("Aliases", joined_or(version.aliases, "none")),
      fact("Deployed on", joined_or(version.targets, "no target")),
      fact("Architecture", architecture_of(version)),
      fact("Task", task_of(version)),
  };
  const auto classes = class_names_of(version);
  if (!classes.empty()) {
    items.push_back(fact("Classes", fmt::format("{}: {}", classes.size(), fmt::join(classes, ", "))));
  }
  if (version.origin == Origin::train) {
    items.push_back(fact("Training", fmt::format("{} training samples, {} validation samples, {:.1f} s "
                                                 "({:.0f} samples/s)",
                                                 version.train_samples, version.validation_samples,
                                                 version.train_seconds, version.samples_per_second)));
  }
  return Section{"summary", "Summary", {card::facts(std::move(items))}};
}

Section lineage(const VersionRecord& version) {
  const nlohmann::json recorded = version.lineage.is_object() ? version.lineage : nlohmann::json::object();
  struct Known {
    const char* key;
    const char* label;
    bool code;
  };
  // The keys train and register --artifact record, in the order people ask about them; any other
  // key is shown after them under its own name.
  static constexpr Known kKnown[] = {
      {"parent", "Parent", false},           {"fine_tuned_from", "Fine-tuned from", false},
      {"run", "Training run", true},         {"resumed", "Resumed", false},
      {"resumed_from", "Resumed from", false}, {"git_commit", "Git commit", true},
      {"config_file", "Config file", false}, {"command", "Command", false},
      {"mlc_version", "mlc", false},         {"torch_version", "libtorch", false},
      {"source_file", "Source file", false}, {"source_sha256", "Source sha256", true},
      {"manifest_file", "Manifest file", false},
  };
  std::vector<Fact> items;
  if (!recorded.contains("parent") && !recorded.contains("fine_tuned_from")) {
    items.push_back(fact("Parent", "none recorded"));
  }
  for (const auto& known : kKnown) {
    if (!recorded.contains(known.key) || recorded[known.key].is_null()) continue;
    const std::string value = json_text(recorded[known.key]);
    if (!value.empty()) {
      items.push_back(fact(known.label, value, known.code));
    } else if (std::string_view(known.key) == "git_commit") {
      items.push_back(fact(known.label, "not recorded (not trained in a git checkout)"));
    }
  }
  for (const auto& [key, value] : recorded.items()) {
    bool known = false;
    for (const auto& entry : kKnown) known = known || key == entry.key;
    if (!known && !value.is_null()) items.push_back(fact(key, json_text(value)));
  }

  std::vector<Block> blocks = {card::facts(std::move(items)), card::heading("Data files")};
  if (version.data_files.empty()) {
    blocks.push_back(card::paragraph("No data files recorded: this version was registered from a TorchScript file."));
  } else {
    blocks.push_back(card::table(card::data_files_table(version.data_files)));
  }
  blocks.push_back(card::heading("Artifacts"));
  Table artifacts{{text_column("artifact"), code_column("sha256")}, {}};
  if (!version.checkpoint_sha256.empty()) artifacts.rows.push_back({"checkpoint", version.checkpoint_sha256});
  artifacts.rows.push_back({"TorchScript model", version.model_sha256.value_or("not exported")});
  artifacts.rows.push_back({"manifest.json", version.manifest_sha256.value_or("not exported")});
  blocks.push_back(card::table(std::move(artifacts)));
  if (version.artifacts_purged_at) {
    blocks.push_back(card::note("The artifacts were deleted by mlc gc --purge-retired at " +
                                *version.artifacts_purged_at + "."));
  }
  return Section{"lineage", "Lineage", std::move(blocks)};
}

Section config(const VersionRecord& version) {
  std::vector<Block> blocks;
  if (version.config.is_object()) {
    blocks.push_back(card::preformatted(json_block(version.config)));
  } else {
    blocks.push_back(card::paragraph("No training config: this version was registered from a TorchScript file."));
  }
  if (version.model_info.is_object() && !version.model_info.empty()) {
    blocks.push_back(card::heading("What training fitted (model information)"));
    blocks.push_back(card::preformatted(json_block(version.model_info)));
  }
  return Section{"config", "Config", std::move(blocks)};
}

svg::LineChart epoch_chart(std::string title, std::string y_label, std::vector<svg::Series> series) {
  svg::LineChart chart;
  chart.title = std::move(title);
  chart.x_label = "epoch";
  chart.y_label = std::move(y_label);
  chart.series = std::move(series);
  chart.x_min_step = 1;  // no tick between two epochs
  return chart;
}

Section learning_curves(const CardFacts& facts) {
  if (facts.epochs.empty()) {
    return Section{"learning-curves", "Learning curves",
                   {card::paragraph("No epochs recorded: this version was not trained by mlc.")}};
  }
  std::vector<std::string> names;  // validation metrics, loss first, in the order epochs hold them
  for (const auto& epoch : facts.epochs) {
    for (const auto& metric : epoch.validation) {
      if (std::find(names.begin(), names.end(), metric.first) == names.end()) names.push_back(metric.first);
    }
  }
  std::stable_partition(names.begin(), names.end(), [](const std::string& name) { return name == "loss"; });
  const auto validation_series = [&](const std::string& name) {
    svg::Series series{"validation " + name, {}};
    for (const auto& epoch : facts.epochs) {
      const auto found = epoch.validation.find(name);
      series.points.emplace_back(epoch.epoch, found == epoch.validation.end() ? NAN : found->second);
    }
    return series;
  };

  svg::LineChart loss = epoch_chart("Loss", "loss", {svg::Series{"train loss", {}}});
  for (const auto& epoch : facts.epochs) loss.series[0].points.emplace_back(epoch.epoch, epoch.train_loss);
  std::vector<std::string> charts;
  for (const auto& name : names) {
    if (name == "loss") {
      loss.series.push_back(validation_series(name));
    } else {
      charts.push_back(svg::line_chart(epoch_chart("Validation " + name, name, {validation_series(name)})));
    }
  }
  charts.insert(charts.begin(), svg::line_chart(loss));

  Table values{{number_column("epoch"), number_column("train loss")}, {}};
  for (const auto& name : names) values.columns.push_back(number_column("validation " + name));
  values.columns.push_back(number_column("seconds"));
  for (const auto& epoch : facts.epochs) {
    std::vector<std::string> row = {std::to_string(epoch.epoch), metric_text("loss", epoch.train_loss)};
    for (const auto& name : names) {
      const auto found = epoch.validation.find(name);
      row.push_back(found == epoch.validation.end() ? "" : metric_text(name, found->second));
    }
    row.push_back(fmt::format("{:.2f}", epoch.seconds));
    values.rows.push_back(std::move(row));
  }
  std::string caption = names.empty() ? "Per epoch; no validation split, so training loss only."
                                      : "Per epoch, on the training and validation splits.";
  const nlohmann::json training = facts.version.model_info.is_object()
                                      ? facts.version.model_info.value("training", nlohmann::json())
                                      : nlohmann::json();
  if (training.is_object() && training.contains("best_epoch")) {
    caption += fmt::format(" The kept model is epoch {}{}{}.", json_text(training["best_epoch"]),
                           training.contains("monitor") ? " (best " + json_text(training["monitor"]) + ")" : "",
                           training.value("stopped_early", false) ? "; training stopped early" : "");
  }
  return Section{"learning-curves", "Learning curves", {card::figure(std::move(charts), caption, std::move(values))}};
}

// What an alias or metadata row changed, in words; other rows' reasons say it already.
std::string detail_text(const HistoryEntry& entry) {
  const nlohmann::json& detail = entry.detail;
  if (!detail.is_object()) return "";
  const auto version_text = [&](const char* key) {
    return detail.contains(key) && !detail[key].is_null() ? "v" + json_text(detail[key]) : std::string("none");
  };
  if (entry.event == Event::alias) {
    return fmt::format("alias {}: {} → {}", json_text(detail.value("alias", nlohmann::json(""))),
                       version_text("from_version"), version_text("to_version"));
  }
  if (entry.event != Event::metadata) return "";
  std::vector<std::string> changes;
  if (detail.contains("description") && detail["description"].is_object()) {
    changes.push_back(fmt::format("description \"{}\" → \"{}\"",
                                  json_text(detail["description"].value("from", nlohmann::json(""))),
                                  json_text(detail["description"].value("to", nlohmann::json("")))));
  }
  if (detail.contains("tags_set") && detail["tags_set"].is_object()) {
    for (const auto& [key, value] : detail["tags_set"].items()) {
      changes.push_back("tag " + key + "=" + json_text(value));
    }
  }
  if (detail.contains("tags_removed") && detail["tags_removed"].is_array()) {
    for (const auto& key : detail["tags_removed"]) changes.push_back("tag " + json_text(key) + " removed");
  }
  return fmt::format("{}", fmt::join(changes, "; "));
}

Section history(const CardFacts& facts) {
  Table table{{text_column("at (UTC)"), text_column("event"), text_column("from → to"), text_column("actor"),
               text_column("host"), text_column("target"), text_column("reason / note")},
              {}};
  for (const auto& entry : facts.history) {
    std::string note = entry.reason;
    const std::string detail = detail_text(entry);
    if (!detail.empty()) note += (note.empty() ? "" : ": ") + detail;
    table.rows.push_back({entry.at, std::string(to_string(entry.event)),
                          fmt::format("{} → {}", entry.from ? to_string(*entry.from) : "(new)", to_string(entry.to)),
                          entry.actor, entry.host, entry.target, note});
  }
  return Section{"history", "History", {card::paragraph("Oldest first."), card::table(std::move(table))}};
}

}  // namespace

Card render_card(const CardFacts& facts) {
  const VersionRecord& version = facts.version;
  card::Document document;
  document.title = version.model + ":" + std::to_string(version.version);
  document.subtitle = fmt::format("Model card: {} · {} · {} · created {}", to_string(version.state),
                                  task_of(version), architecture_of(version), version.created_at);
  document.sections = {
      // What a reader decides on first (how it learned, how it measured), then where it came from.
      summary(facts),
      learning_curves(facts),
      card::latest_evaluation(facts),
      card::all_evaluations(facts),
      lineage(version),
      config(version),
      // Variants (quantised, ONNX) are not recorded by the catalogue yet (issue 9).
      Section{"variants", "Variants", {card::paragraph("No variants are recorded for this version.")}},
      history(facts),
  };
  document.footer = fmt::format("Generated by mlc {} at {} from its catalogue.", mlc_version(), facts.generated_at);
  return Card{card::html(document), card::markdown(document)};
}

}  // namespace mlc
