#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/limits.hpp"
#include "mlc/rank_launcher.hpp"
#include "mlc/training_progress.hpp"

namespace mlc::cli {
namespace {

struct TrainFlags {
  std::string config;
  std::string name;
  std::optional<std::string> resume;
  std::optional<int> epochs;
  std::optional<int> batch_size;
  std::optional<int> threads;
  std::optional<long long> seed;
  std::vector<std::string> sets;
  LaunchFlags launch;
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

// SIGINT and SIGTERM while training: the first asks to stop after the epoch, a second to stop
// after the batch; either way the run's state is saved and mlc exits 130.
std::atomic<int> g_stop_requests{0};

void on_stop_signal(int) {
  const int count = ++g_stop_requests;
  const char* message = count == 1
                            ? "\nmlc: stopping after this epoch (signal again to stop now)\n"
                            : "\nmlc: stopping after this batch\n";
  const ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
}

class StopSignals {
 public:
  StopSignals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: an open() blocked on a FIFO (as the config or the data) must fail with EINTR
    // and end the command, not wait on after the signal.
    action.sa_flags = 0;
    ::sigaction(SIGINT, &action, &previous_interrupt_);
    ::sigaction(SIGTERM, &action, &previous_terminate_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &previous_interrupt_, nullptr);
    ::sigaction(SIGTERM, &previous_terminate_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction previous_interrupt_ {};
  struct sigaction previous_terminate_ {};
};

// Progress on stderr (TrainingProgress decides what): a live line on a terminal, plain lines in a
// pipe or file; nothing with --quiet or --json.
class Progress {
 public:
  // Only rank 0 of a data-parallel run prints its progress (every rank's is the same global
  // batch count and loss: the loss is reduced across ranks).
  Progress(const CliState& state, bool is_root)
      : enabled_(!state.global.quiet && !state.global.json && is_root),
        terminal_(::isatty(STDERR_FILENO) == 1),
        progress_(terminal_ ? TrainingProgress::Output::terminal : TrainingProgress::Output::log,
                  terminal_width(STDERR_FILENO)) {}

  void phase(TrainPhase phase, int epoch) { write(progress_.phase(phase, epoch, now())); }
  void batch(const BatchProgress& batch) { write(progress_.batch(batch, now())); }
  void epoch(const EpochMetrics& epoch) { write(progress_.epoch(epoch, now())); }
  void close_line() { write(progress_.close()); }

 private:
  TrainingProgress::Clock::time_point now() {
    if (terminal_) progress_.set_width(terminal_width(STDERR_FILENO));  // it may have been resized
    return TrainingProgress::Clock::now();
  }
  void write(const std::string& text) const {
    if (!enabled_ || text.empty()) return;
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  }

  bool enabled_;
  bool terminal_;
  TrainingProgress progress_;
};

nlohmann::json metrics_json(const TrainResult& result) {
  auto epochs = nlohmann::json::array();
  for (const auto& epoch : result.epochs) epochs.push_back(epoch_json(epoch));
  const EpochMetrics& kept = result.epochs.at(static_cast<size_t>(result.best_epoch) - 1);
  nlohmann::json metrics = {{"epochs", epochs},
                            {"best_epoch", result.best_epoch},
                            {"monitor", result.monitor},
                            {"stopped_early", result.stopped_early},
                            {"train_loss", kept.train_loss}};
  for (const auto& [name, value] : kept.validation) metrics["validation_" + name] = value;
  return metrics;
}

std::string kept_summary(const TrainResult& result) {
  const EpochMetrics& kept = result.epochs.at(static_cast<size_t>(result.best_epoch) - 1);
  std::string text = fmt::format("epoch {} of {}", result.best_epoch, result.epochs.size());
  if (result.stopped_early) text += " (stopped early)";
  for (const auto& [name, value] : kept.validation) text += fmt::format(", validation {} {:.4f}", name, value);
  return text;
}

void run_train(const TrainFlags& flags, CliState& state) {
  if (!flags.resume && (flags.config.empty() || flags.name.empty())) {
    throw mlc::Error(ErrorKind::usage, "train needs a CONFIG and --name, or --resume RUN");
  }
  if (flags.resume && !flags.name.empty()) {
    throw mlc::Error(ErrorKind::usage, "--resume continues a run under its own model name; drop --name");
  }
  if (flags.threads) check_thread_count(*flags.threads, "--threads");
  if (launches_ranks(flags.launch)) {
    // The ranks print the outcome and any error themselves (rank 0 the version).
    state.exit_code = launch_local_ranks(flags.launch);
    return;
  }
  TrainOptions options;
  options.distributed = rank_settings(flags.launch);
  const bool is_root = options.distributed.rank == 0;
  options.config_file = flags.config;
  options.model_name = flags.name;
  options.overrides = overrides_of(flags);
  options.resume = flags.resume;
  Progress progress(state, is_root);
  options.on_batch = [&progress](const BatchProgress& batch) { progress.batch(batch); };
  options.on_epoch = [&progress](const EpochMetrics& epoch) { progress.epoch(epoch); };
  options.on_phase = [&progress](TrainPhase phase, int epoch) { progress.phase(phase, epoch); };
  g_stop_requests = 0;
  options.stop_requests = &g_stop_requests;

  TrainOutcome outcome = [&] {
    StopSignals signals;
    try {
      return train_version(state.session(), options);
    } catch (const mlc::Error& error) {
      progress.close_line();
      // A signal interrupts a blocked open() or read() (a FIFO as the config or the data): the
      // failure it caused is the stop the user asked for, not a problem with the file.
      if (g_stop_requests > 0 && error.kind() != ErrorKind::interrupted) {
        throw mlc::Error(ErrorKind::interrupted, fmt::format("stopped by a signal: {}", error.what()));
      }
      throw;
    } catch (...) {
      progress.close_line();
      throw;
    }
  }();
  if (!outcome.recorded) return;  // a rank other than 0: rank 0 records and prints the version

  nlohmann::json document = version_summary_json(outcome.version);
  document["metrics"] = metrics_json(outcome.result);
  document["run"] = outcome.run_id;
  document["resumed"] = outcome.resumed;
  document["train_seconds"] = outcome.result.train_seconds;
  document["samples_per_second"] = outcome.result.samples_per_second;
  document["train_samples"] = outcome.result.train_samples;
  document["validation_samples"] = outcome.result.validation_samples;
  document["checkpoint_sha256"] = outcome.version.checkpoint_sha256;
  if (!outcome.result.distributed.is_null()) {
    document["distributed"] = outcome.result.distributed;
    document["distributed"]["allreduce_seconds"] = outcome.result.allreduce_seconds;
  }
  const std::string ranks =
      outcome.result.distributed.is_null()
          ? ""
          : fmt::format(" on {} ranks", outcome.result.distributed.at("world_size").get<int>());
  state.print(document, fmt::format("{} trained: kept {}; {:.1f} s, {:.0f} samples/s{}",
                                    subject(outcome.version), kept_summary(outcome.result),
                                    outcome.result.train_seconds,
                                    outcome.result.samples_per_second, ranks));
}

}  // namespace

void setup_train(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* command = app.add_subcommand(
      "train", "Train a new version of a model from a config, or resume an interrupted run");
  command->add_option("config", flags->config, "Train config (JSON; schemas/train-config.schema.json)");
  command->add_option("--name", flags->name, "Model name ([A-Za-z0-9._-])");
  command->add_option("--resume", flags->resume,
                      "Continue an interrupted run: its id, or a model name for its latest run");
  const CLI::Range positive(1, std::numeric_limits<int>::max());
  command->add_option("--epochs", flags->epochs, "Override training.epochs")->check(positive);
  command->add_option("--batch-size", flags->batch_size, "Override training.batch_size")->check(positive);
  command->add_option("--threads", flags->threads, "Override training.threads (at most 4x the cores)")->check(positive);
  command->add_option("--seed", flags->seed, "Override training.seed")
      ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));
  command->add_option("--set", flags->sets, "Override any config key: KEY.PATH=VALUE (repeatable)");
  command->add_option("--nproc", flags->launch.nproc,
                      "Data-parallel: start N ranks on this host (torch.distributed, Gloo)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--nnodes", flags->launch.nnodes, "Data-parallel: hosts taking part (default 1)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--node-rank", flags->launch.node_rank, "Data-parallel: this host's place, 0 to M-1")
      ->check(CLI::Range(0, 1023));
  command->add_option("--master", flags->launch.master,
                      "Data-parallel: rank 0's ADDR:PORT (default: this host, a free port)");
  command->add_option("--backend", flags->launch.backend,
                      "Data-parallel: communication backend (gloo; nccl is not built in)");
  command->callback([flags, &state] { run_train(*flags, state); });
}

}  // namespace mlc::cli
