#include <doctest/doctest.h>

#include "mlc/json_output.hpp"

TEST_CASE("variant_json: the record, both measurements and the deltas of the metrics both have") {
  mlc::VariantRecord variant;
  variant.name = "small";
  variant.kind = mlc::VariantKind::fp16;
  variant.model_sha256 = std::string(64, 'e');
  variant.manifest_sha256 = std::string(64, 'f');
  variant.created_at = "2026-11-29T12:00:00.000Z";
  variant.fp32 = {{{"accuracy", 0.5}, {"loss", 1.0}, {"fp32_only", 3}}, 4000, 0.25, 0.125};
  variant.variant = {{{"accuracy", 0.75}, {"loss", 0.5}}, 2000, 0.5, 0.0625};
  variant.samples = 8;
  variant.data_fingerprint = std::string(64, '3');
  const nlohmann::json json = mlc::variant_json(variant);
  CHECK(json == nlohmann::json{
                    {"name", "small"},
                    {"kind", "fp16"},
                    {"format", "torchscript"},
                    {"model_sha256", variant.model_sha256},
                    {"manifest_sha256", variant.manifest_sha256},
                    {"created_at", variant.created_at},
                    {"samples", 8},
                    {"data_fingerprint", variant.data_fingerprint},
                    {"details", nlohmann::json::object()},
                    {"fp32",
                     {{"metrics", {{"accuracy", 0.5}, {"loss", 1.0}, {"fp32_only", 3.0}}},
                      {"size_bytes", 4000},
                      {"latency_batch1_ms", 0.25},
                      {"latency_batch64_ms", 0.125}}},
                    {"variant",
                     {{"metrics", {{"accuracy", 0.75}, {"loss", 0.5}}},
                      {"size_bytes", 2000},
                      {"latency_batch1_ms", 0.5},
                      {"latency_batch64_ms", 0.0625}}},
                    {"deltas", {{"accuracy", 0.25}, {"loss", -0.5}}}});
  CHECK(mlc::variant_event_json(variant) ==
        nlohmann::json{{"name", "small"}, {"kind", "fp16"}, {"deltas", {{"accuracy", 0.25}, {"loss", -0.5}}}});
}
