#include "serving/batcher.hpp"

#include <ATen/Parallel.h>

#include <future>
#include <vector>

#include "mlc/error.hpp"
#include "serving/model_set.hpp"
#include "torch_error.hpp"

namespace mlc::compute::serving {

Batcher::Batcher(std::string model_name, int max_batch_size, std::chrono::microseconds max_queue_delay,
                 Metrics& metrics)
    : model_name_(std::move(model_name)),
      max_batch_size_(max_batch_size),
      max_queue_delay_(max_queue_delay),
      metrics_(metrics),
      thread_([this] { run(); }) {}

Batcher::~Batcher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Batcher::arriving() {
  const std::lock_guard lock(mutex_);
  ++arriving_;
}

void Batcher::cancel_arrival() {
  {
    const std::lock_guard lock(mutex_);
    --arriving_;
  }
  wake_.notify_all();
}

void Batcher::submit(BatchItem item) {
  {
    const std::lock_guard lock(mutex_);
    --arriving_;
    queue_.push_back(std::move(item));
  }
  wake_.notify_all();
}

void Batcher::warm_up(const std::shared_ptr<const InferenceModel>& model) {
  std::vector<int64_t> shape = model->sample_shape();
  shape.insert(shape.begin(), 1);
  std::promise<std::string> finished;
  arriving();
  submit({model, torch::zeros(shape), std::chrono::steady_clock::now(),
          [&finished](BatchResult result) { finished.set_value(result.error); }, true});
  const std::string error = finished.get_future().get();
  if (!error.empty()) throw Error(ErrorKind::invalid_input, "the model fails on an input of zeros: " + error);
}

void Batcher::run() {
  // OpenMP's thread count is per thread: without this, a new thread's forward passes would each
  // start a team of one thread per core, spinning against the HTTP threads.
  at::init_num_threads();
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    // Take the requests that started on the first one's version, up to the batch size; wait for
    // more only while some are still being parsed and the first has not waited its limit.
    const auto deadline = queue_.front().queued + max_queue_delay_;
    auto queued_rows = [this] {
      int64_t rows = 0;
      for (const BatchItem& item : queue_) {
        if (item.model != queue_.front().model) break;
        rows += item.input.size(0);
      }
      return rows;
    };
    while (!stopping_ && arriving_ > 0 && queued_rows() < max_batch_size_ &&
           std::chrono::steady_clock::now() < deadline) {
      wake_.wait_until(lock, deadline);
    }
    std::deque<BatchItem> batch;
    int64_t rows = 0;
    while (!queue_.empty() && queue_.front().model == (batch.empty() ? queue_.front().model : batch.front().model)) {
      const int64_t item_rows = queue_.front().input.size(0);
      if (!batch.empty() && rows + item_rows > max_batch_size_) break;
      rows += item_rows;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    forward(batch);
    lock.lock();
  }
}

void Batcher::forward(std::deque<BatchItem>& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<double> queue_seconds;
  std::vector<torch::Tensor> inputs;
  for (const BatchItem& item : batch) {
    queue_seconds.push_back(std::chrono::duration<double>(started - item.queued).count());
    inputs.push_back(item.input);
  }
  torch::Tensor outputs;
  std::string error;
  try {
    outputs = batch.front().model->forward(inputs.size() == 1 ? inputs[0] : torch::cat(inputs));
  } catch (const std::exception& failure) {
    error = failure.what();
  }
  const double forward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!batch.front().warm_up) metrics_.batch_done(model_name_, outputs.defined() ? outputs.size(0) : 0, queue_seconds, forward_seconds);
  int64_t row = 0;
  for (BatchItem& item : batch) {
    const int64_t rows = item.input.size(0);
    BatchResult result;
    if (error.empty()) {
      result.outputs = outputs.narrow(0, row, rows);
    } else {
      result.error = error;
    }
    row += rows;
    try {
      item.done(std::move(result));
    } catch (const std::exception& failure) {  // e.g. out of memory writing the response
      log_line(std::string("error: answering a request: ") + failure.what());
    }
  }
}

}  // namespace mlc::compute::serving
