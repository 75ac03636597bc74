// What `mlc train` writes on stderr while it trains, decided apart from the clock and the
// terminal: the CLI passes the time and writes what comes back, and tests drive it with made-up
// times.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "mlc/compute.hpp"

namespace mlc {

class TrainingProgress {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Output {
    // One live line rewritten in place ("\r\033[K", at most five times a second), cut to one
    // column less than the width so that it never wraps; finished epochs as lines above it.
    terminal,
    // A pipe or a file (a CI log): plain lines, never wrapped (one line is one fact for grep):
    // one line per finished epoch, and within a long epoch at most one line per `log_interval`
    // (validation is such a line when it comes that late). Loading data gets none, so that an
    // error reading it stays the only line on stderr.
    log,
  };

  TrainingProgress(Output output, size_t width,
                   std::chrono::seconds log_interval = std::chrono::seconds(30));

  // The terminal was resized; widths below 20 count as 20.
  void set_width(size_t width);

  // Each returns what to write on stderr now ("" for nothing).
  std::string phase(TrainPhase phase, int epoch, Clock::time_point now);
  std::string batch(const BatchProgress& batch, Clock::time_point now);
  std::string epoch(const EpochMetrics& epoch, Clock::time_point now);
  // Clears the live line, if one is showing (before an error or the result is printed).
  std::string close();

 private:
  std::string live(const std::string& text, Clock::time_point now);
  std::string logged(const std::string& text, Clock::time_point now);

  Output output_;
  size_t width_;
  std::chrono::seconds log_interval_;
  int epochs_ = 0;  // known from the first batch
  bool line_open_ = false;
  Clock::time_point last_live_{};
  Clock::time_point last_logged_{};
};

// "epoch 3: train loss 0.4321, validation accuracy 0.9000 (1.2 s)"
std::string epoch_summary(const EpochMetrics& epoch);

// The width of the terminal on `fd` (TIOCGWINSZ), else $COLUMNS when it is a positive number,
// else 80.
size_t terminal_width(int fd);

}  // namespace mlc
