// The models `mlc serve` holds: what the target holds, loaded, and swapped live when it changes.
//
// refresh() runs on one thread (the watcher): it reads the target from the catalogue and, for a
// model whose version changed, loads the new version off to the side (its deployment directory
// opened once, model.pt checked against the catalogue's sha256, one warm-up forward) and only then
// swaps it in. Requests hold a shared_ptr to the version they started on, so a swap never waits
// for them and they finish on it; a version that fails to load leaves the old one serving.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "inference/inference_model.hpp"
#include "mlc/compute.hpp"
#include "serving/batcher.hpp"
#include "serving/metrics.hpp"

namespace mlc::compute::serving {

// One line to the server's log (stderr), e.g. "loaded m:2 (sha256 0123abcd)".
void log_line(const std::string& line);

class ModelSet {
 public:
  ModelSet(const ServeRequest& request, Metrics& metrics);

  // The version serving `name` now, and the batcher of that name; {nullptr, nullptr} if none.
  struct Serving {
    std::shared_ptr<const InferenceModel> model;
    Batcher* batcher = nullptr;
  };
  Serving find(const std::string& name) const;
  // Whether the target lists `name` (served or not, e.g. its first load failed).
  bool listed(const std::string& name) const;
  // Every model the target holds has a version serving.
  bool ready() const;

  // One look at the target: loads, swaps and removes what changed. Never throws: failures are
  // logged (once per distinct message) and the old versions keep serving.
  void refresh();

 private:
  std::shared_ptr<const InferenceModel> load(const ServedVersion& version) const;
  void report_failure(const ServedVersion& version, const std::string& message);
  bool waiting_to_retry(const ServedVersion& version) const;

  const ServeRequest& request_;
  Metrics& metrics_;
  mutable std::shared_mutex mutex_;
  struct Entry {
    std::shared_ptr<const InferenceModel> model;
    int64_t version = 0;
    std::string sha256;
  };
  std::map<std::string, Entry> serving_;
  std::map<std::string, std::unique_ptr<Batcher>> batchers_;  // one per name ever served
  std::map<std::string, std::string> listed_;                 // name -> "" or why it is not serving
  bool ready_ = false;
  // Watcher thread only: the last failure per model. A swap between reading the catalogue and
  // opening the directory shows as one sha256 mismatch or missing file, so those are reported when
  // they repeat; a version that keeps failing is tried again less and less often (up to 10 s).
  struct Failure {
    std::string version_key;  // "VERSION:SHA256" that failed
    std::string message;
    int repeats = 0;
    std::chrono::steady_clock::time_point next_attempt;
  };
  std::map<std::string, Failure> failures_;
  std::string last_target_error_;
};

}  // namespace mlc::compute::serving
