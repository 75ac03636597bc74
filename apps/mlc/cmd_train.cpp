#include <limits>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/json_output.hpp"

namespace mlc::cli {
namespace {

struct TrainFlags {
  std::string config;
  std::string name;
  std::optional<int> epochs;
  std::optional<int> batch_size;
  std::optional<int> threads;
  std::optional<long long> seed;
  std::vector<std::string> sets;
};

// Dedicated flags are shorthands for --set on the config's training section.
std::vector<std::string> overrides_of(const TrainFlags& flags) {
  std::vector<std::string> overrides = flags.sets;
  if (flags.epochs) overrides.push_back(fmt::format("training.epochs={}", *flags.epochs));
  if (flags.batch_size) overrides.push_back(fmt::format("training.batch_size={}", *flags.batch_size));
  if (flags.threads) overrides.push_back(fmt::format("training.threads={}", *flags.threads));
  if (flags.seed) overrides.push_back(fmt::format("training.seed={}", *flags.seed));
  return overrides;
}

void run_train(const TrainFlags& flags, CliState& state) {
  TrainOptions options;
  options.config_file = flags.config;
  options.model_name = flags.name;
  options.overrides = overrides_of(flags);
  options.on_epoch = [&state](const EpochMetrics& epoch) {
    state.progress(fmt::format("epoch {}: train loss {:.4f}, validation loss {:.4f}, "
                               "validation accuracy {:.4f} ({:.1f} s)",
                               epoch.epoch, epoch.train_loss, epoch.validation_loss,
                               epoch.validation_accuracy, epoch.seconds));
  };
  const TrainOutcome outcome = train_version(state.session(), options);

  nlohmann::json document = version_summary_json(outcome.version);
  auto epochs = nlohmann::json::array();
  for (const auto& epoch : outcome.result.epochs) epochs.push_back(epoch_json(epoch));
  const EpochMetrics& last = outcome.result.epochs.back();
  document["metrics"] = {{"epochs", epochs},
                         {"train_loss", last.train_loss},
                         {"validation_loss", last.validation_loss},
                         {"validation_accuracy", last.validation_accuracy}};
  document["train_seconds"] = outcome.result.train_seconds;
  document["samples_per_second"] = outcome.result.samples_per_second;
  document["train_samples"] = outcome.result.train_samples;
  document["validation_samples"] = outcome.result.validation_samples;
  document["checkpoint_sha256"] = outcome.version.checkpoint_sha256;
  state.print(document, fmt::format("{} trained: validation accuracy {:.4f} after {} epochs, "
                                    "{:.1f} s, {:.0f} samples/s",
                                    subject(outcome.version), last.validation_accuracy,
                                    outcome.result.epochs.size(), outcome.result.train_seconds,
                                    outcome.result.samples_per_second));
}

}  // namespace

void setup_train(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* command = app.add_subcommand("train", "Train a new version of a model from a config");
  command->add_option("config", flags->config, "Train config (JSON; schemas/train-config.schema.json)")
      ->required();
  command->add_option("--name", flags->name, "Model name ([A-Za-z0-9._-])")->required();
  const CLI::Range positive(1, std::numeric_limits<int>::max());
  command->add_option("--epochs", flags->epochs, "Override training.epochs")->check(positive);
  command->add_option("--batch-size", flags->batch_size, "Override training.batch_size")->check(positive);
  command->add_option("--threads", flags->threads, "Override training.threads")->check(positive);
  command->add_option("--seed", flags->seed, "Override training.seed")
      ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));
  command->add_option("--set", flags->sets, "Override any config key: KEY.PATH=VALUE (repeatable)");
  command->callback([flags, &state] { run_train(*flags, state); });
}

}  // namespace mlc::cli
