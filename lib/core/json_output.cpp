#include "mlc/json_output.hpp"

#include <fmt/format.h>

#include "mlc/listing.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace {

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// variant - fp32 for each metric both measurements have.
nlohmann::json variant_deltas(const VariantRecord& variant) {
  nlohmann::json deltas = nlohmann::json::object();
  for (const auto& [name, value] : variant.variant.metrics) {
    const auto fp32 = variant.fp32.metrics.find(name);
    if (fp32 != variant.fp32.metrics.end()) deltas[name] = value - fp32->second;
  }
  return deltas;
}

}  // namespace

nlohmann::json version_summary_json(const VersionRecord& version) {
  return {
      {"model", version.model},
      {"version", version.version},
      {"state", to_string(version.state)},
      {"created_at", version.created_at},
      {"description", version.description},
      {"tags", version.tags},
      {"targets", version.targets},
      {"aliases", version.aliases},
  };
}

nlohmann::json listed_version_json(const ListedVersion& version) {
  nlohmann::json json = version_summary_json(version.version);
  const std::optional<Headline> best = headline(version);
  json["headline"] = best ? nlohmann::json{{"metric", best->metric},
                                           {"value", best->value},
                                           {"self_reported", best->self_reported}}
                          : nlohmann::json(nullptr);
  json["latest_metrics"] = version.metrics;
  return json;
}

nlohmann::json data_files_json(const std::vector<DataFile>& files) {
  auto array = nlohmann::json::array();
  for (const auto& file : files) {
    array.push_back({{"role", file.role}, {"path", file.path}, {"sha256", file.sha256}});
  }
  return array;
}

nlohmann::json epoch_json(const EpochMetrics& epoch) {
  nlohmann::json json = {
      {"epoch", epoch.epoch}, {"train_loss", epoch.train_loss}, {"seconds", epoch.seconds}};
  for (const auto& [name, value] : epoch.validation) json["validation_" + name] = value;
  return json;
}

std::string metrics_text(const Metrics& metrics) {
  std::string text;
  for (const auto& [name, value] : metrics) {
    if (name.find('[') != std::string::npos) continue;  // per-class: show's table, not a line
    text += fmt::format("{}{} {:.4f}", text.empty() ? "" : ", ", printable(name), value);
  }
  return text;
}

nlohmann::json evaluation_json(const EvaluationRecord& evaluation) {
  return {{"at", evaluation.at},
          {"samples", evaluation.samples},
          {"passed", evaluation.passed},
          {"origin", evaluation.origin},
          {"metrics", evaluation.metrics},
          {"gates", evaluation.gates.is_null() ? nlohmann::json::array() : evaluation.gates},
          {"data_files", data_files_json(evaluation.data_files)},
          {"details", evaluation.details},
          {"data_fingerprint", evaluation.data_fingerprint.empty() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(evaluation.data_fingerprint)},
          {"on_test_split", evaluation.on_test_split ? nlohmann::json(*evaluation.on_test_split)
                                                     : nlohmann::json(nullptr)},
          {"self_reported", evaluation.origin == "manifest"}};
}

nlohmann::json evaluation_event_json(const EvaluationRecord& evaluation) {
  nlohmann::json event = evaluation_json(evaluation);
  event.erase("metrics");
  event.erase("details");
  event.erase("gates");
  event.erase("at");
  return event;
}

std::string evaluation_text(const EvaluationRecord& evaluation) {
  if (evaluation.origin == "manifest") {
    return "self-reported by its manifest, not measured by mlc: " + metrics_text(evaluation.metrics);
  }
  const std::string data = !evaluation.on_test_split ? "on data not recorded (catalogue schema 3 or older)"
                           : *evaluation.on_test_split ? "on its test split"
                           : "on other data";
  const std::string fingerprint = evaluation.data_fingerprint.empty()
                                      ? std::string()
                                      : " (data " + evaluation.data_fingerprint.substr(0, 12) + ")";
  return fmt::format("{}, {} samples{}: {}", data, evaluation.samples, fingerprint,
                     metrics_text(evaluation.metrics));
}

nlohmann::json version_detail_json(const VersionRecord& version,
                                   const std::vector<EpochMetrics>& epochs,
                                   const std::optional<EvaluationRecord>& evaluation) {
  nlohmann::json detail = version_summary_json(version);
  auto curve = nlohmann::json::array();
  for (const auto& epoch : epochs) curve.push_back(epoch_json(epoch));
  const bool trained = version.origin == Origin::train;
  detail["origin"] = to_string(version.origin);
  detail["artifacts"] = {
      {"checkpoint_sha256", trained ? nlohmann::json(version.checkpoint_sha256) : nlohmann::json(nullptr)},
      {"model_sha256", optional_json(version.model_sha256)},
      {"manifest_sha256", optional_json(version.manifest_sha256)},
      {"purged_at", optional_json(version.artifacts_purged_at)}};
  detail["training"] = trained ? nlohmann::json{{"train_seconds", version.train_seconds},
                                                {"samples_per_second", version.samples_per_second},
                                                {"train_samples", version.train_samples},
                                                {"validation_samples", version.validation_samples},
                                                {"epochs", curve}}
                               : nlohmann::json(nullptr);
  detail["evaluation"] = evaluation ? evaluation_json(*evaluation) : nlohmann::json(nullptr);
  detail["data_files"] = data_files_json(version.data_files);
  detail["config"] = version.config;
  detail["model_info"] = version.model_info;
  detail["lineage"] = version.lineage;
  return detail;
}

nlohmann::json history_entry_json(const HistoryEntry& entry) {
  return {{"at", entry.at},
          {"model", entry.model},
          {"version", entry.version},
          {"from", entry.from ? nlohmann::json(to_string(*entry.from)) : nlohmann::json(nullptr)},
          {"to", to_string(entry.to)},
          {"actor", entry.actor},
          {"reason", entry.reason},
          {"target", entry.target},
          {"command", entry.command},
          {"event", to_string(entry.event)},
          {"host", entry.host},
          {"detail", entry.detail}};
}

nlohmann::json variant_measurement_json(const VariantMeasurement& measurement) {
  return {{"metrics", measurement.metrics},
          {"size_bytes", measurement.size_bytes},
          {"latency_batch1_ms", optional_json(measurement.latency_batch1_ms)},
          {"latency_batch64_ms", optional_json(measurement.latency_batch64_ms)}};
}

nlohmann::json variant_json(const VariantRecord& variant) {
  return {{"name", variant.name},
          {"kind", to_string(variant.kind)},
          {"format", variant.format},
          {"model_sha256", variant.model_sha256},
          {"manifest_sha256", variant.manifest_sha256},
          {"created_at", variant.created_at},
          {"samples", variant.samples},
          {"data_fingerprint", variant.data_fingerprint},
          {"details", variant.details.is_null() ? nlohmann::json::object() : variant.details},
          {"fp32", variant_measurement_json(variant.fp32)},
          {"variant", variant_measurement_json(variant.variant)},
          {"deltas", variant_deltas(variant)}};
}

nlohmann::json variant_event_json(const VariantRecord& variant) {
  return {{"name", variant.name}, {"kind", to_string(variant.kind)}, {"deltas", variant_deltas(variant)}};
}

nlohmann::json target_change_json(const TargetChange& change) {
  return {{"at", change.at},
          {"kind", to_string(change.kind)},
          {"version", change.version ? nlohmann::json(*change.version) : nlohmann::json(nullptr)},
          {"variant", change.variant ? nlohmann::json(*change.variant) : nlohmann::json(nullptr)},
          {"actor", change.actor},
          {"host", change.host},
          {"reason", change.reason},
          {"command", change.command}};
}

}  // namespace mlc
