#include "serving/metrics.hpp"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mlc::compute::serving {
namespace {

// Label values are model names and versions ([A-Za-z0-9._-], checked by the catalogue), escaped
// anyway: JSON's escaping of '\\', '"' and newline is the format's, and bytes that are not UTF-8,
// which Prometheus would refuse, are replaced.
std::string label_value(const std::string& value) {
  const std::string json = nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return json.substr(1, json.size() - 2);
}

std::string number(double value) { return fmt::format("{}", value); }

// Seconds: 50 us .. 10 s, roughly x2.5 apart, dense where a loopback request lands.
std::vector<double> latency_bounds() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
}

std::vector<double> batch_bounds() { return {1, 2, 4, 8, 16, 32, 64, 128, 256}; }

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, number(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, count_);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, number(sum_), name, braces, count_);
}

Metrics::ModelHistograms::ModelHistograms()
    : request_seconds(latency_bounds()),
      queue_seconds(latency_bounds()),
      forward_seconds(latency_bounds()),
      batch_size(batch_bounds()) {}

Metrics::ModelHistograms& Metrics::histograms_of(const std::string& model) {
  return histograms_.try_emplace(model).first->second;
}

void Metrics::request_done(const std::string& model, const std::string& version, const std::string& outcome,
                           double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{model, version, outcome}];
  if (outcome == "success") histograms_of(model).request_seconds.observe(seconds);
}

void Metrics::batch_done(const std::string& model, int64_t batch_size, const std::vector<double>& queue_seconds,
                         double forward_seconds) {
  const std::lock_guard lock(mutex_);
  ModelHistograms& histograms = histograms_of(model);
  histograms.batch_size.observe(static_cast<double>(batch_size));
  histograms.forward_seconds.observe(forward_seconds);
  for (const double seconds : queue_seconds) histograms.queue_seconds.observe(seconds);
}

void Metrics::in_flight(int delta) {
  const std::lock_guard lock(mutex_);
  in_flight_ += delta;
}

void Metrics::model_loaded(const std::string& model, bool success, bool swapped) {
  const std::lock_guard lock(mutex_);
  ++loads_[{model, success ? "success" : "failure"}];
  if (swapped) ++swaps_[model];
}

void Metrics::http_response(unsigned status) {
  const std::lock_guard lock(mutex_);
  ++responses_[status];
}

std::string Metrics::exposition() const {
  const std::lock_guard lock(mutex_);
  std::string out;
  header(out, "mlc_inference_requests_total", "counter",
         "Inference requests by model, version and outcome.");
  for (const auto& [key, count] : requests_) {
    const auto& [model, version, outcome] = key;
    out += fmt::format("mlc_inference_requests_total{{model=\"{}\",version=\"{}\",outcome=\"{}\"}} {}\n",
                       label_value(model), label_value(version), outcome, count);
  }
  header(out, "mlc_inference_request_duration_seconds", "histogram",
         "Time from a successful infer request's arrival to its response, by model.");
  for (const auto& [model, histograms] : histograms_) {
    histograms.request_seconds.write(out, "mlc_inference_request_duration_seconds",
                                     fmt::format("model=\"{}\"", label_value(model)));
  }
  header(out, "mlc_inference_queue_duration_seconds", "histogram",
         "Time an infer request waited for its forward pass (dynamic batching), by model.");
  for (const auto& [model, histograms] : histograms_) {
    histograms.queue_seconds.write(out, "mlc_inference_queue_duration_seconds",
                                   fmt::format("model=\"{}\"", label_value(model)));
  }
  header(out, "mlc_inference_forward_duration_seconds", "histogram",
         "Time of one forward pass over a batch, by model.");
  for (const auto& [model, histograms] : histograms_) {
    histograms.forward_seconds.write(out, "mlc_inference_forward_duration_seconds",
                                     fmt::format("model=\"{}\"", label_value(model)));
  }
  header(out, "mlc_inference_batch_size", "histogram", "Samples per forward pass, by model.");
  for (const auto& [model, histograms] : histograms_) {
    histograms.batch_size.write(out, "mlc_inference_batch_size", fmt::format("model=\"{}\"", label_value(model)));
  }
  header(out, "mlc_inference_requests_in_flight", "gauge", "Requests received and not yet answered.");
  out += fmt::format("mlc_inference_requests_in_flight {}\n", in_flight_);
  header(out, "mlc_model_loads_total", "counter", "Model versions loaded, by model and outcome.");
  for (const auto& [key, count] : loads_) {
    out += fmt::format("mlc_model_loads_total{{model=\"{}\",outcome=\"{}\"}} {}\n", label_value(key.first),
                       key.second, count);
  }
  header(out, "mlc_model_swaps_total", "counter", "Live swaps of a served model to another version.");
  for (const auto& [model, count] : swaps_) {
    out += fmt::format("mlc_model_swaps_total{{model=\"{}\"}} {}\n", label_value(model), count);
  }
  header(out, "mlc_http_responses_total", "counter", "HTTP responses by status code.");
  for (const auto& [status, count] : responses_) {
    out += fmt::format("mlc_http_responses_total{{code=\"{}\"}} {}\n", status, count);
  }
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out += fmt::format("process_resident_memory_bytes {}\n", resident_bytes());
  return out;
}

}  // namespace mlc::compute::serving
