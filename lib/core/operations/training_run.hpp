// A training run's own directory, HOME/runs/RUN_ID: run.json (what to train and how it was
// started) and the backend's state files. It lets `mlc train --resume` continue a run that a
// signal or a kill -9 stopped. Private to lib/core/operations.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "mlc/home.hpp"

namespace mlc::detail {

class TrainingRun {
 public:
  // Creates a new run directory for `model` with run.json and takes its lock. Throws
  // Error(catalog) naming the path and the OS's reason if the home cannot be written, and
  // Error(integrity) if a link inside the home leads elsewhere (home_paths.hpp).
  static TrainingRun start(const Home& home, const std::string& model, const nlohmann::json& config,
                           const nlohmann::json& lineage);
  // Opens the run `name_or_id` names: a run id, or a model name for its most recent run that no
  // process holds (runs whose run.json cannot be read are passed over). Throws Error(not_found) if
  // there is none and Error(refused) if the run is locked by a running mlc. A run killed before
  // its first epoch ended has no state yet: the backend starts it afresh.
  static TrainingRun resume(const Home& home, const std::string& name_or_id);

  TrainingRun(TrainingRun&& other) noexcept;
  TrainingRun& operator=(TrainingRun&&) = delete;
  TrainingRun(const TrainingRun&) = delete;
  ~TrainingRun();  // releases the lock; the directory stays unless remove() was called

  const std::string& id() const { return id_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& model() const { return model_; }
  const nlohmann::json& config() const { return record_.at("config"); }
  const nlohmann::json& lineage() const { return record_.at("lineage"); }

  // Deletes the directory (after the version is recorded, or when a new run failed), unless a
  // link has taken its place.
  void remove();

 private:
  TrainingRun(Home home, std::filesystem::path dir, int lock_fd);

  Home home_;
  std::filesystem::path dir_;
  std::string id_;
  std::string model_;
  nlohmann::json record_;
  int lock_fd_ = -1;
};

}  // namespace mlc::detail
