#include <doctest/doctest.h>

#include <sstream>

#include "mlc/text_table.hpp"
#include "mlc/training_progress.hpp"

using mlc::TrainingProgress;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const TrainingProgress::Clock::time_point kStart = TrainingProgress::Clock::time_point{} + std::chrono::hours(1);

mlc::BatchProgress batch_at(int64_t batch) {
  mlc::BatchProgress progress;
  progress.epoch = 2;
  progress.epochs = 10;
  progress.batch = batch;
  progress.batches = 1000;
  progress.loss = 0.4321;
  progress.samples_per_second = 1234;
  progress.epoch_seconds = static_cast<double>(batch);  // one batch a second
  return progress;
}

mlc::EpochMetrics epoch_metrics() {
  mlc::EpochMetrics epoch;
  epoch.epoch = 2;
  epoch.train_loss = 0.4321;
  epoch.validation = {{"accuracy", 0.9}, {"loss", 0.3}};
  epoch.seconds = 1.25;
  return epoch;
}

}  // namespace

TEST_CASE("TrainingProgress on a terminal: one live line, cut to the width") {
  TrainingProgress progress(TrainingProgress::Output::terminal, 40);
  const std::string loading = progress.phase(mlc::TrainPhase::loading_data, 0, kStart);
  CHECK(loading == "\r\033[Kloading data...");
  const std::string first = progress.batch(batch_at(1), kStart + milliseconds(300));
  CHECK(first == "\r\033[Kepoch 2/10  batch 1/1000  loss 0.4321");  // under 40 columns, whole facts
  SUBCASE("at most five updates a second, but always the last batch") {
    CHECK(progress.batch(batch_at(2), kStart + milliseconds(400)).empty());
    CHECK_FALSE(progress.batch(batch_at(3), kStart + milliseconds(500)).empty());
    CHECK_FALSE(progress.batch(batch_at(1000), kStart + milliseconds(501)).empty());
  }
  SUBCASE("validation is a phase of the live line") {
    CHECK(progress.phase(mlc::TrainPhase::validating, 2, kStart + milliseconds(310)) ==
          "\r\033[Kepoch 2/10  validating...");
  }
  SUBCASE("a finished epoch clears the line and is wrapped to the width") {
    const std::string text = progress.epoch(epoch_metrics(), kStart + seconds(2));
    CHECK(text == "\r\033[K"
                  "epoch 2: train loss 0.4321,\n"
                  "  validation accuracy 0.9000,\n"
                  "  validation loss 0.3000 (1.2 s)\n");
    CHECK(progress.close().empty());
  }
  SUBCASE("a resized terminal") {
    progress.set_width(25);
    CHECK(progress.batch(batch_at(1000), kStart + seconds(1)) == "\r\033[Kepoch 2/10");  // whole facts only
    CHECK(progress.close() == "\r\033[K");
    CHECK(progress.close().empty());
  }
}

TEST_CASE("TrainingProgress in a log: plain lines, at most one per 30 s within an epoch") {
  TrainingProgress progress(TrainingProgress::Output::log, 40);
  CHECK(progress.phase(mlc::TrainPhase::loading_data, 0, kStart).empty());  // no line before an error
  std::string log;
  // A 1,000-second epoch, a batch every second: a line at 30 s, 60 s, ...
  int lines = 0;
  for (int64_t batch = 1; batch <= 1000; ++batch) {
    const std::string text = progress.batch(batch_at(batch), kStart + seconds(batch));
    if (!text.empty()) ++lines;
    log += text;
  }
  CHECK(lines == 33);
  CHECK(log.find('\r') == std::string::npos);
  CHECK(log.find("\033") == std::string::npos);
  CHECK(log.rfind("epoch 2/10  batch 30/1000  loss 0.4321  1234 samples/s  ETA 16:10\n", 0) == 0);
  SUBCASE("validation gets a line only when 30 s passed since the last one") {
    CHECK(progress.phase(mlc::TrainPhase::validating, 2, kStart + seconds(1001)).empty());
    CHECK(progress.phase(mlc::TrainPhase::validating, 2, kStart + seconds(1050)) == "epoch 2/10  validating...\n");
  }
  SUBCASE("every finished epoch is a line, and restarts the 30 s") {
    const std::string text = progress.epoch(epoch_metrics(), kStart + seconds(1001));
    CHECK(text == "epoch 2: train loss 0.4321, validation accuracy 0.9000, validation loss 0.3000 (1.2 s)\n");
    CHECK(progress.batch(batch_at(1), kStart + seconds(1030)).empty());
    CHECK_FALSE(progress.batch(batch_at(2), kStart + seconds(1031)).empty());
  }
  CHECK(progress.close().empty());
}

TEST_CASE("TrainingProgress: widths below 20 count as 20") {
  TrainingProgress progress(TrainingProgress::Output::terminal, 3);
  CHECK(progress.batch(batch_at(1), kStart) == "\r\033[Kepoch 2/10");
}

TEST_CASE("epoch_summary") {
  CHECK(mlc::epoch_summary(epoch_metrics()) ==
        "epoch 2: train loss 0.4321, validation accuracy 0.9000, validation loss 0.3000 (1.2 s)");
}
