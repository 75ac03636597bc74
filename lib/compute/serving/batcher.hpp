// Dynamic batching, as Triton's dynamic batcher does it: concurrent infer requests for one model
// are gathered into one forward pass, up to max_batch_size samples.
//
// One thread per served model runs the forward passes. It takes what is queued when it is free;
// it waits (at most max_queue_delay) for more only while another request for the model is being
// parsed, so that a lone client never pays the delay and a busy model fills its batches.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <torch/types.h>

#include "inference/inference_model.hpp"
#include "serving/metrics.hpp"

namespace mlc::compute::serving {

// What a forward pass gives one request: its rows of the output, or why there are none.
struct BatchResult {
  torch::Tensor outputs;  // [rows, output_width], contiguous; undefined on error
  std::string error;      // "" on success
};

struct BatchItem {
  std::shared_ptr<const InferenceModel> model;  // the version the request started on
  torch::Tensor input;                          // [rows, sample_shape...]
  std::chrono::steady_clock::time_point queued;
  std::function<void(BatchResult)> done;        // runs on the batcher's thread: keep it short
  bool warm_up = false;                         // not a request: left out of the metrics
};

class Batcher {
 public:
  Batcher(std::string model_name, int max_batch_size, std::chrono::microseconds max_queue_delay, Metrics& metrics);
  ~Batcher();  // finishes what is queued, then joins
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // A request for this model is being read and parsed; submit() or cancel_arrival() follows.
  void arriving();
  void cancel_arrival();
  void submit(BatchItem item);
  // Runs one forward pass of `model` on zeros through this batcher's thread and waits for it: the
  // first forward of a module on a thread is slow (allocator and kernel set-up), and no request
  // should pay for it. Throws what the forward threw.
  void warm_up(const std::shared_ptr<const InferenceModel>& model);

 private:
  void run();
  void forward(std::deque<BatchItem>& batch);

  std::string model_name_;
  int64_t max_batch_size_;
  std::chrono::microseconds max_queue_delay_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<BatchItem> queue_;
  int arriving_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mlc::compute::serving
