#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/reference.hpp"
#include "mlc/train_config.hpp"
#include "training_run.hpp"

namespace mlc {
namespace fs = std::filesystem;

namespace {

detail::TrainingRun open_run(const Session& session, const TrainOptions& options,
                             const ComputeBackend& backend) {
  if (options.resume) {
    if (!options.overrides.empty() || !options.config_file.empty()) {
      throw Error(ErrorKind::usage,
                  "--resume continues a run with the config it started with; it takes no config "
                  "file and no --set, --epochs, --batch-size, --threads or --seed");
    }
    return detail::TrainingRun::resume(session.home, *options.resume);
  }
  // Everything that can be wrong with the input is found before anything is written.
  check_name(options.model_name, "model name");
  const nlohmann::json config = load_train_config(options.config_file, options.overrides);
  const nlohmann::json lineage = {
      {"mlc_version", mlc_version()},
      {"torch_version", backend.torch_version()},
      {"git_commit", detail::git_commit_of_working_directory()},
      {"config_file", fs::absolute(options.config_file).lexically_normal().string()},
      {"command", session.command_line}};
  return detail::TrainingRun::start(session.home, options.model_name, config, lineage);
}

// A rank other than 0 of a data-parallel run: it trains rank 0's run (the backend learns which from
// rank 0), with its own config when the run is new so that the backend can compare the two.
TrainOutcome train_as_other_rank(const TrainOptions& options, ComputeBackend& backend) {
  TrainRequest request;
  if (!options.resume) {
    check_name(options.model_name, "model name");
    request.config = load_train_config(options.config_file, options.overrides);
  }
  request.distributed = options.distributed;
  request.distributed.mlc_version = mlc_version();
  request.stop_requests = options.stop_requests;
  TrainOutcome outcome;
  outcome.result = backend.train(request);
  outcome.resumed = options.resume.has_value();
  outcome.recorded = false;
  return outcome;
}

}  // namespace

TrainOutcome train_version(const Session& session, const TrainOptions& options) {
  ComputeBackend& backend = load_compute_backend();
  if (options.distributed.world_size > 1 && options.distributed.rank > 0) {
    return train_as_other_rank(options, backend);
  }
  detail::TrainingRun run = open_run(session, options, backend);
  const bool resumed = options.resume.has_value();
  if (resumed && fs::exists(session.home.catalog_file())) {
    // Killed after recording its version and before removing its directory: it is done.
    const Catalog catalog(session.home, Catalog::Mode::existing);
    if (const auto version = catalog.trained_by_run(run.id())) {
      run.remove();
      throw Error(ErrorKind::refused, fmt::format("run {} already finished as {}", run.id(),
                                                  detail::subject(*version)));
    }
  }

  TrainRequest request{run.config(), run.dir(),      resumed,
                       options.distributed, options.on_epoch, options.on_batch,
                       options.stop_requests, options.on_phase};
  request.distributed.mlc_version = mlc_version();
  TrainResult result;
  try {
    result = backend.train(request);
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::interrupted) {
      throw Error(ErrorKind::interrupted,
                  fmt::format("{}; continue with: mlc train --resume {}", error.what(), run.id()));
    }
    // A new run that failed has nothing worth resuming; a resumed one keeps its saved epochs.
    if (!resumed) run.remove();
    throw;
  }

  Catalog catalog(session.home, Catalog::Mode::create);
  NewVersion version;
  version.model = run.model();
  version.config = run.config();
  version.model_info = result.model_info;
  version.model_info["training"] = {{"best_epoch", result.best_epoch},
                                    {"monitor", result.monitor},
                                    {"stopped_early", result.stopped_early},
                                    {"epochs_run", result.epochs.size()}};
  version.lineage = run.lineage();
  version.lineage["run"] = run.id();
  version.lineage["resumed"] = resumed;
  if (!result.distributed.is_null()) version.lineage["distributed"] = result.distributed;
  const ArtifactStore store = detail::artifact_store(session);
  version.checkpoint_sha256 = store.put(result.checkpoint);
  version.epochs = result.epochs;
  version.data_files = result.data_files;
  version.train_samples = result.train_samples;
  version.validation_samples = result.validation_samples;
  version.train_seconds = result.train_seconds;
  version.samples_per_second = result.samples_per_second;

  VersionRecord record = catalog.in_transaction([&] {
    store.ensure_stored(version.checkpoint_sha256, result.checkpoint);
    return catalog.create_version(version, detail::note_for(session, "trained"));
  });
  run.remove();
  return TrainOutcome{std::move(record), std::move(result), run.id(), resumed};
}

const char* mlc_version() { return MLC_VERSION; }

}  // namespace mlc
