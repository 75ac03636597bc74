#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/reference.hpp"
#include "mlc/train_config.hpp"

namespace mlc {
namespace fs = std::filesystem;

TrainOutcome train_version(const Session& session, const TrainOptions& options) {
  // Everything that can be wrong with the input is found before anything is written.
  check_name(options.model_name, "model name");
  const nlohmann::json config = load_train_config(options.config_file, options.overrides);

  ComputeBackend& backend = load_compute_backend();
  ScopedTempDir work(fs::temp_directory_path(), "mlc-train-");
  TrainResult result = backend.train(TrainRequest{config, work.path(), options.on_epoch});

  Catalog catalog(session.home, Catalog::Mode::create);
  NewVersion version;
  version.model = options.model_name;
  version.config = config;
  version.model_info = result.model_info;
  version.lineage = {{"mlc_version", mlc_version()},
                     {"torch_version", backend.torch_version()},
                     {"git_commit", detail::git_commit_of_working_directory()},
                     {"config_file", fs::absolute(options.config_file).lexically_normal().string()},
                     {"command", session.command_line}};
  version.checkpoint_sha256 = detail::artifact_store(session).put(result.checkpoint);
  version.epochs = result.epochs;
  version.data_files = result.data_files;
  version.train_samples = result.train_samples;
  version.validation_samples = result.validation_samples;
  version.train_seconds = result.train_seconds;
  version.samples_per_second = result.samples_per_second;

  VersionRecord record = catalog.in_transaction([&] {
    return catalog.create_version(version, detail::note_for(session, "trained"));
  });
  return TrainOutcome{std::move(record), std::move(result)};
}

const char* mlc_version() { return MLC_VERSION; }

}  // namespace mlc
