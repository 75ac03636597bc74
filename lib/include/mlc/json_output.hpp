// The --json documents mlc prints, one function per shape. schemas/output/*.schema.json describe
// them and the CLI tests validate every command's output against its schema.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/catalog.hpp"

namespace mlc {

// {"model", "version", "state", "created_at", "description", "tags", "targets", "aliases"}: what list
// prints per version and every lifecycle command prints about the version it acted on.
nlohmann::json version_summary_json(const VersionRecord& version);

// What `mlc list` prints per version: the summary plus "headline" ({"metric", "value",
// "self_reported"}, or null: listing.hpp) and "latest_metrics" (those of ListFilter::metrics its
// latest evaluation has).
nlohmann::json listed_version_json(const ListedVersion& version);

// The summary plus config, model_info, lineage, data files, the learning curve and the latest
// evaluation: what `mlc show` prints.
nlohmann::json version_detail_json(const VersionRecord& version,
                                   const std::vector<EpochMetrics>& epochs,
                                   const std::optional<EvaluationRecord>& evaluation);

nlohmann::json epoch_json(const EpochMetrics& epoch);

// "accuracy 0.8812, loss 0.3301": metrics for people (messages, the history's reasons); metric
// names are escaped (text.hpp), as everything people read is. Per-class metrics ("recall[Shirt]")
// are left out: `mlc show` tables them.
std::string metrics_text(const Metrics& metrics);
nlohmann::json evaluation_json(const EvaluationRecord& evaluation);
// The detail of an evaluation's history row: {"origin", "samples", "passed", "data_fingerprint",
// "on_test_split", "data_files"} (the metrics are in the evaluations table and the row's reason).
nlohmann::json evaluation_event_json(const EvaluationRecord& evaluation);
// "on its test split, 10000 samples (data 3fa1c2d4e5f6): accuracy 0.8812, loss 0.3301", or for a
// manifest's metrics "self-reported by its manifest, not measured by mlc: accuracy 0.9900".
std::string evaluation_text(const EvaluationRecord& evaluation);
nlohmann::json history_entry_json(const HistoryEntry& entry);
// {"metrics", "size_bytes", "latency_batch1_ms", "latency_batch64_ms"}: one model file as a
// variant's run measured it (also the form the catalogue stores it in).
nlohmann::json variant_measurement_json(const VariantMeasurement& measurement);
// {"name", "kind", "format", "model_sha256", "manifest_sha256", "created_at", "samples",
// "data_fingerprint", "details", "fp32", "variant", "deltas"}: a variant as show and export print
// it; "fp32" and "variant" are variant_measurement_json, "deltas" maps each metric both have to
// variant - fp32.
nlohmann::json variant_json(const VariantRecord& variant);
// The detail of a variant's history row: {"name", "kind", "deltas"}.
nlohmann::json variant_event_json(const VariantRecord& variant);
// {"at", "kind", "version" (null: the target was emptied), "actor", "host", "reason", "command"}
nlohmann::json target_change_json(const TargetChange& change);
nlohmann::json data_files_json(const std::vector<DataFile>& files);

}  // namespace mlc
