#include "mlc/training_progress.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "mlc/environment.hpp"
#include "mlc/text_table.hpp"

namespace mlc {
namespace {

constexpr size_t kMinimumWidth = 20;
constexpr auto kLiveInterval = std::chrono::milliseconds(200);

std::string duration_text(double seconds) {
  const long long total = std::llround(seconds);
  if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

// Where the epoch is first, so that a cut line keeps it.
std::string batch_text(const BatchProgress& batch) {
  const double per_batch = batch.epoch_seconds / static_cast<double>(std::max<int64_t>(1, batch.batch));
  const double eta = per_batch * static_cast<double>(batch.batches - batch.batch);
  return fmt::format("epoch {}/{}  batch {}/{}  loss {:.4f}  {:.0f} samples/s  ETA {}", batch.epoch,
                     batch.epochs, batch.batch, batch.batches, batch.loss, batch.samples_per_second,
                     duration_text(eta));
}

}  // namespace

std::string epoch_summary(const EpochMetrics& epoch) {
  std::string line = fmt::format("epoch {}: train loss {:.4f}", epoch.epoch, epoch.train_loss);
  for (const auto& [name, value] : epoch.validation) {
    line += fmt::format(", validation {} {:.4f}", name, value);
  }
  return line + fmt::format(" ({:.1f} s)", epoch.seconds);
}

size_t terminal_width(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const auto columns = environment_variable("COLUMNS")) {
    char* end = nullptr;
    const long value = std::strtol(columns->c_str(), &end, 10);
    if (end != columns->c_str() && *end == '\0' && value > 0) return static_cast<size_t>(value);
  }
  return 80;
}

TrainingProgress::TrainingProgress(Output output, size_t width, std::chrono::seconds log_interval)
    : output_(output), width_(std::max(width, kMinimumWidth)), log_interval_(log_interval) {}

void TrainingProgress::set_width(size_t width) { width_ = std::max(width, kMinimumWidth); }

std::string TrainingProgress::phase(TrainPhase phase, int epoch, Clock::time_point now) {
  if (phase == TrainPhase::loading_data) {
    // A log gets no line for it: an error reading the data stays the only line on stderr.
    if (output_ == Output::log) {
      last_logged_ = now;
      return "";
    }
    last_live_ = {};  // shown at once
    return live("loading data...", now);
  }
  const std::string text = epochs_ > 0 ? fmt::format("epoch {}/{}  validating...", epoch, epochs_)
                                       : fmt::format("epoch {}  validating...", epoch);
  if (output_ == Output::terminal) {
    last_live_ = {};
    return live(text, now);
  }
  return now - last_logged_ >= log_interval_ ? logged(text, now) : "";
}

std::string TrainingProgress::batch(const BatchProgress& batch, Clock::time_point now) {
  epochs_ = batch.epochs;
  if (output_ == Output::terminal) {
    // The last batch is always shown, so that the line ends where the epoch did.
    if (batch.batch < batch.batches && now - last_live_ < kLiveInterval) return "";
    return live(batch_text(batch), now);
  }
  if (last_logged_ == Clock::time_point{}) last_logged_ = now;  // no loading line came first
  return now - last_logged_ >= log_interval_ ? logged(batch_text(batch), now) : "";
}

std::string TrainingProgress::epoch(const EpochMetrics& epoch, Clock::time_point now) {
  const std::string cleared = close();
  last_logged_ = now;
  // A log keeps one line per epoch, whatever its length, so that it can be read with grep.
  const std::string summary = epoch_summary(epoch);
  return cleared + (output_ == Output::terminal ? wrap_to_width(summary, width_) : summary) + "\n";
}

std::string TrainingProgress::close() {
  if (!line_open_) return "";
  line_open_ = false;
  return "\r\033[K";
}

std::string TrainingProgress::live(const std::string& text, Clock::time_point now) {
  last_live_ = now;
  line_open_ = true;
  std::string fitted = cut_to_width(text, width_ - 1);
  // Cut at the last whole fact ("  ETA 0:12"), not in the middle of one.
  const size_t last_gap = fitted.rfind("  ");
  if (fitted.size() < text.size() && last_gap != std::string::npos && text.compare(fitted.size(), 2, "  ") != 0) {
    fitted.erase(last_gap);
  }
  fitted.erase(fitted.find_last_not_of(' ') + 1);
  return "\r\033[K" + fitted;
}

std::string TrainingProgress::logged(const std::string& text, Clock::time_point now) {
  last_logged_ = now;
  return text + "\n";
}

}  // namespace mlc
