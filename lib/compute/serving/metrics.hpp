// What `mlc serve` counts, exposed at GET /metrics in Prometheus's text format (version 0.0.4):
// base units (seconds, bytes), counters ending in _total, histograms with _bucket/_sum/_count.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace mlc::compute::serving {

// A cumulative histogram with fixed upper bounds (the +Inf bucket is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // "NAME_bucket{LABELS,le=...} N" lines, then _sum and _count. `labels` is `model="m"` or "".
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative; +Inf last
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // One inference request's end: outcome "success", "bad_request", "not_found", "unavailable",
  // "too_large", "unauthorized" or "error". `version` is "" when no version was resolved.
  void request_done(const std::string& model, const std::string& version, const std::string& outcome,
                    double seconds);
  // One forward pass over `batch_size` samples gathered from requests that waited `queue_seconds`.
  void batch_done(const std::string& model, int64_t batch_size, const std::vector<double>& queue_seconds,
                  double forward_seconds);
  void in_flight(int delta);
  // A version loaded (outcome "success" or "failure") and, if it replaced another, a swap.
  void model_loaded(const std::string& model, bool success, bool swapped);
  void http_response(unsigned status);

  // The whole exposition, "# HELP"/"# TYPE" lines included, with the process's resident memory.
  std::string exposition() const;

 private:
  struct ModelHistograms {
    Histogram request_seconds;
    Histogram queue_seconds;
    Histogram forward_seconds;
    Histogram batch_size;
    ModelHistograms();
  };
  ModelHistograms& histograms_of(const std::string& model);

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> requests_;
  std::map<std::string, ModelHistograms> histograms_;
  std::map<std::pair<std::string, std::string>, uint64_t> loads_;
  std::map<std::string, uint64_t> swaps_;
  std::map<unsigned, uint64_t> responses_;
  int64_t in_flight_ = 0;
};

}  // namespace mlc::compute::serving
