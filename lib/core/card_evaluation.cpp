// The evaluations on a model card: the latest one in full (metrics, per-class table, confusion
// matrix heat map, residual quantiles, its data) and every one as a row.
#include <optional>

#include <fmt/format.h>

#include "card_sections.hpp"
#include "mlc/json_output.hpp"
#include "mlc/svg_plot.hpp"

namespace mlc::card {
namespace {

// Beyond this many classes a heat map is a grid of unreadable specks and its cells alone run to
// megabytes (1,000 classes: a million cells); mlc --json show has the matrix.
constexpr size_t kMaxClassesDrawn = 60;

// The classes of an evaluation: its details' class names, else those its per-class metrics name.
std::vector<std::string> evaluated_classes(const EvaluationRecord& evaluation) {
  std::vector<std::string> names;
  if (evaluation.details.is_object() && evaluation.details.contains("class_names") &&
      evaluation.details["class_names"].is_array()) {
    for (const auto& name : evaluation.details["class_names"]) names.push_back(json_text(name));
    return names;
  }
  const std::string prefix = "support[";
  for (const auto& [name, value] : evaluation.metrics) {
    if (name.rfind(prefix, 0) == 0 && name.back() == ']') {
      names.push_back(name.substr(prefix.size(), name.size() - prefix.size() - 1));
    }
  }
  return names;
}

bool is_residual_quantile(const std::string& name) { return name.rfind("residual_p", 0) == 0; }

std::string metric_or_blank(const EvaluationRecord& evaluation, const std::string& name) {
  const auto found = evaluation.metrics.find(name);
  return found == evaluation.metrics.end() ? "" : metric_text(name, found->second);
}

// The confusion matrix as a heat map, with its counts as the table Markdown shows; nothing when
// the details hold no well-formed K x K matrix of counts.
std::optional<Block> confusion_matrix(const EvaluationRecord& evaluation, const std::vector<std::string>& classes) {
  const nlohmann::json& details = evaluation.details;
  if (!details.is_object() || !details.contains("confusion_matrix") || !details["confusion_matrix"].is_array()) {
    return std::nullopt;
  }
  svg::HeatMap map{"Confusion matrix", classes, {}};
  for (const auto& row : details["confusion_matrix"]) {
    if (!row.is_array() || row.size() != classes.size()) return std::nullopt;
    std::vector<int64_t> counts;
    for (const auto& count : row) {
      if (!count.is_number_integer()) return std::nullopt;
      counts.push_back(count.get<int64_t>());
    }
    map.counts.push_back(std::move(counts));
  }
  if (map.counts.size() != classes.size()) return std::nullopt;
  Table values{{text_column("true \\ predicted")}, {}};
  for (const auto& name : classes) values.columns.push_back(number_column(name));
  for (size_t i = 0; i < classes.size(); ++i) {
    std::vector<std::string> row = {classes[i]};
    for (int64_t count : map.counts[i]) row.push_back(std::to_string(count));
    values.rows.push_back(std::move(row));
  }
  return card::figure({svg::heat_map(map)},
                      "Rows: the true class; columns: the predicted class. A cell's colour is its share of "
                      "its row; the diagonal is each class's recall.",
                      std::move(values));
}

std::string measured_by(const EvaluationRecord& evaluation) {
  return evaluation.origin == "manifest" ? "self-reported (manifest), not measured by mlc" : "mlc " + evaluation.origin;
}

// What an evaluation was tested on: its data fingerprint and whether that was the version's test split.
std::string tested_on(const EvaluationRecord& evaluation) {
  if (evaluation.origin == "manifest") return "not stated";
  if (!evaluation.on_test_split) return "not recorded (catalogue schema 3 or older)";
  return fmt::format("{}, data fingerprint {}", *evaluation.on_test_split ? "its test split" : "other data (--data)",
                     evaluation.data_fingerprint);
}

std::string gates_text(const EvaluationRecord& evaluation) {
  std::vector<std::string> gates;
  if (evaluation.gates.is_array()) {
    for (const auto& gate : evaluation.gates) {
      if (!gate.is_object()) continue;
      gates.push_back(json_text(gate.value("expression", nlohmann::json(""))) + ": " +
                      (gate.value("passed", false) ? "passed" : "FAILED"));
    }
  }
  return joined_or(gates, "none");
}

}  // namespace

Section latest_evaluation(const CardFacts& facts) {
  if (facts.evaluations.empty()) {
    return Section{"evaluation", "Evaluation (latest)",
                   {card::paragraph("Not evaluated: mlc eval " + facts.version.model + ":" +
                                    std::to_string(facts.version.version) + " records an evaluation.")}};
  }
  const EvaluationRecord& evaluation = facts.evaluations.front();
  std::vector<Block> blocks;
  if (evaluation.origin == "manifest") {
    blocks.push_back(card::note("Self-reported (manifest), not measured by mlc: these metrics were stated by the "
                                "manifest of the registered artifact."));
  }
  blocks.push_back(card::facts({fact("At", evaluation.at), fact("Measured by", measured_by(evaluation)),
                                fact("Samples", evaluation.samples > 0 ? std::to_string(evaluation.samples)
                                                                       : "not stated"),
                                fact("Tested on", tested_on(evaluation)),
                                fact("Gates", gates_text(evaluation))}));
  Table metrics{{text_column("metric"), number_column("value")}, {}};
  Table residuals{{text_column("quantile of target - prediction"), number_column("value")}, {}};
  for (const auto& [name, value] : evaluation.metrics) {
    if (name.find('[') != std::string::npos) continue;  // per class: tabled below
    (is_residual_quantile(name) ? residuals : metrics).rows.push_back({name, metric_text(name, value)});
  }
  blocks.push_back(card::heading("Metrics"));
  blocks.push_back(card::table(std::move(metrics)));
  const auto classes = evaluated_classes(evaluation);
  if (!classes.empty()) {
    Table per_class{{text_column("class"), number_column("precision"), number_column("recall"),
                     number_column("f1"), number_column("support")},
                    {}};
    for (const auto& name : classes) {
      std::vector<std::string> row = {name};
      for (const char* kind : {"precision", "recall", "f1", "support"}) {
        row.push_back(metric_or_blank(evaluation, fmt::format("{}[{}]", kind, name)));
      }
      per_class.rows.push_back(std::move(row));
    }
    blocks.push_back(card::heading("Per class"));
    blocks.push_back(card::table(std::move(per_class)));
    if (classes.size() > kMaxClassesDrawn) {
      blocks.push_back(card::heading("Confusion matrix"));
      blocks.push_back(card::paragraph(fmt::format("Not drawn for {} classes (at most {}): mlc --json show has it.",
                                                   classes.size(), kMaxClassesDrawn)));
    } else if (auto matrix = confusion_matrix(evaluation, classes)) {
      blocks.push_back(card::heading("Confusion matrix"));
      blocks.push_back(std::move(*matrix));
    }
  }
  if (!residuals.rows.empty()) {
    blocks.push_back(card::heading("Residuals"));
    blocks.push_back(card::table(std::move(residuals)));
  }
  blocks.push_back(card::heading("Data evaluated on"));
  if (evaluation.data_files.empty()) {
    blocks.push_back(card::paragraph("No data files recorded with this evaluation."));
  } else {
    blocks.push_back(card::table(data_files_table(evaluation.data_files)));
  }
  return Section{"evaluation", "Evaluation (latest)", std::move(blocks)};
}

Section all_evaluations(const CardFacts& facts) {
  if (facts.evaluations.empty()) return Section{"evaluations", "All evaluations", {card::paragraph("None.")}};
  Table table{{text_column("at"), text_column("measured by"), number_column("samples"), text_column("metrics"),
               text_column("gates"), text_column("tested on"), code_column("data (sha256)")},
              {}};
  for (const auto& evaluation : facts.evaluations) {
    std::vector<std::string> data;
    for (const auto& file : evaluation.data_files) data.push_back(file.role + " " + file.sha256);
    table.rows.push_back({evaluation.at, measured_by(evaluation), std::to_string(evaluation.samples),
                          metrics_text(evaluation.metrics), gates_text(evaluation), tested_on(evaluation),
                          joined_or(data, "not recorded")});
  }
  return Section{"evaluations", "All evaluations", {card::paragraph("Newest first."), card::table(std::move(table))}};
}

}  // namespace mlc::card
