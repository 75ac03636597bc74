#include "torch_doctest.hpp"  // first: see why there

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "inference/inference_model.hpp"
#include "mlc/error.hpp"
#include "serving/batcher.hpp"
#include "serving/metrics.hpp"

using mlc::compute::InferenceModel;
using mlc::compute::serving::BatchItem;
using mlc::compute::serving::Batcher;
using mlc::compute::serving::BatchResult;
using mlc::compute::serving::Metrics;
using namespace std::chrono_literals;

namespace {

using Model = std::shared_ptr<const InferenceModel>;

// A model on samples of 3 values whose two outputs are computed row by row from `expression` of
// x [n, 3]: a batch's rows are the rows each sample gives alone.
Model model_computing(const std::string& expression) {
  torch::jit::Module module("Rows");
  module.define("def forward(self, x):\n    return " + expression + "\n");
  std::ostringstream bytes;
  module.save(bytes);
  const nlohmann::json manifest = {
      {"name", "m"},
      {"versions", {"1"}},
      {"inputs", {{{"name", "input"}, {"datatype", "FP32"}, {"shape", {-1, 3}}}}},
      {"outputs", {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {-1, 2}}}}},
      {"labels", {"a", "b"}}};
  return std::make_shared<const InferenceModel>(bytes.str(), manifest, "test model");
}

Model doubling_model() { return model_computing("x[:, 0:2] * 2.0 + x[:, 2:3]"); }

// What the batcher gave each submitted item, kept alive so that the output tensors of two forward
// passes can never share memory: items whose outputs share storage came from one pass.
class Results {
 public:
  std::function<void(BatchResult)> slot(size_t index) {
    return [this, index](BatchResult result) {
      {
        const std::lock_guard lock(mutex_);
        results_[index] = std::move(result);
      }
      changed_.notify_all();
    };
  }
  // Waits (at most 10 s) until `count` items are answered.
  bool wait_for(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return results_.size() >= count; });
  }
  const BatchResult& at(size_t index) {
    const std::lock_guard lock(mutex_);
    return results_.at(index);
  }
  size_t size() {
    const std::lock_guard lock(mutex_);
    return results_.size();
  }
  // The items of each forward pass, by the memory their outputs share.
  std::vector<std::vector<size_t>> passes() {
    const std::lock_guard lock(mutex_);
    std::map<const void*, std::vector<size_t>> by_storage;
    for (const auto& [index, result] : results_) {
      if (result.outputs.defined()) by_storage[result.outputs.storage().data()].push_back(index);
    }
    std::vector<std::vector<size_t>> passes;
    for (auto& [storage, items] : by_storage) passes.push_back(items);
    return passes;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<size_t, BatchResult> results_;
};

torch::Tensor rows_of(int64_t rows, float first) {
  return torch::arange(first, first + static_cast<float>(rows * 3)).reshape({rows, 3});
}

BatchItem item_of(const Model& model, torch::Tensor input, std::function<void(BatchResult)> done) {
  return {model, std::move(input), std::chrono::steady_clock::now(), std::move(done)};
}

// Submits one item as the server does: announced, then queued.
void submit(Batcher& batcher, BatchItem item) {
  batcher.arriving();
  batcher.submit(std::move(item));
}

// Holds the batcher's thread inside the first item's forward pass (its callback runs there)
// until release(), so that what is submitted meanwhile queues up behind it.
class Blocker {
 public:
  // Submits the blocking item and returns once the batcher's thread is inside it.
  void occupy(Batcher& batcher, const Model& model) {
    std::promise<void> entered;
    auto inside = entered.get_future();
    submit(batcher, item_of(model, rows_of(1, 0), [released = released_, &entered](BatchResult) {
             entered.set_value();
             released.wait_for(10s);
           }));
    REQUIRE(inside.wait_for(10s) == std::future_status::ready);
  }
  void release() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

// One sample's value from the exposition, e.g. "mlc_inference_batch_size_count{model=\"m\"}"; -1
// when there is no such line.
double sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

int64_t rows_in(const std::vector<size_t>& pass, const std::vector<torch::Tensor>& inputs) {
  int64_t rows = 0;
  for (const size_t index : pass) rows += inputs[index].size(0);
  return rows;
}

}  // namespace

TEST_CASE("Batcher gathers requests that arrive during a forward pass into fewer passes") {
  Metrics metrics;
  const Model model = doubling_model();
  Results results;
  std::vector<torch::Tensor> inputs;
  for (int i = 0; i < 8; ++i) inputs.push_back(rows_of(1, static_cast<float>(10 * i)));
  {
    Batcher batcher("m", 4, 0us, metrics);
    Blocker blocker;
    blocker.occupy(batcher, model);
    std::vector<std::thread> clients;
    for (size_t i = 0; i < inputs.size(); ++i) {
      clients.emplace_back([&, i] { submit(batcher, item_of(model, inputs[i], results.slot(i))); });
    }
    for (std::thread& client : clients) client.join();
    blocker.release();
    REQUIRE(results.wait_for(inputs.size()));
  }
  // The blocking pass, then 8 requests in two passes of 4 (the batch size).
  const std::string exposition = metrics.exposition();
  CHECK(sample(exposition, R"(mlc_inference_batch_size_count{model="m"})") == 3);
  CHECK(sample(exposition, R"(mlc_inference_batch_size_sum{model="m"})") == 9);
  CHECK(sample(exposition, R"(mlc_inference_queue_duration_seconds_count{model="m"})") == 9);
  CHECK(sample(exposition, R"(mlc_inference_forward_duration_seconds_count{model="m"})") == 3);
  const auto passes = results.passes();
  CHECK(passes.size() == 2);
  for (const auto& pass : passes) CHECK(pass.size() == 4);
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    const BatchResult& result = results.at(i);
    CHECK(result.error.empty());
    CHECK(result.outputs.is_contiguous());
    CHECK(torch::equal(result.outputs, model->forward(inputs[i])));
  }
}

TEST_CASE("Batcher never puts more than max_batch_size rows in a pass, unless one request has more") {
  Metrics metrics;
  const Model model = doubling_model();
  Results results;
  const std::vector<int64_t> sizes = {1, 2, 3, 6, 1, 4, 2, 2, 1};
  std::vector<torch::Tensor> inputs;
  float first = 0;
  for (const int64_t rows : sizes) {
    inputs.push_back(rows_of(rows, first));
    first += static_cast<float>(rows * 3);
  }
  {
    Batcher batcher("m", 4, 0us, metrics);
    Blocker blocker;
    blocker.occupy(batcher, model);
    for (size_t i = 0; i < inputs.size(); ++i) submit(batcher, item_of(model, inputs[i], results.slot(i)));
    blocker.release();
    REQUIRE(results.wait_for(inputs.size()));
  }
  // In queue order: [1,2] [3] [6] [1] [4] [2,2] [1].
  const auto passes = results.passes();
  CHECK(passes.size() == 7);
  for (const auto& pass : passes) {
    CAPTURE(pass.size());
    if (pass.size() > 1) CHECK(rows_in(pass, inputs) <= 4);
  }
  CHECK(sample(metrics.exposition(), R"(mlc_inference_batch_size_count{model="m"})") == 8);
  CHECK(sample(metrics.exposition(), R"(mlc_inference_batch_size_sum{model="m"})") == 23);
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    CHECK(results.at(i).outputs.size(0) == sizes[i]);
    CHECK(torch::equal(results.at(i).outputs, model->forward(inputs[i])));
  }
}

TEST_CASE("Batcher never puts items of two model versions in one pass") {
  Metrics metrics;
  const Model old_version = doubling_model();
  const Model new_version = model_computing("x[:, 1:3] * -1.0");
  Results results;
  // Queued: old, new, new, old, old, new: passes [old] [new,new] [old,old] [new].
  const std::vector<Model> models = {old_version, new_version, new_version, old_version, old_version, new_version};
  std::vector<torch::Tensor> inputs;
  for (size_t i = 0; i < models.size(); ++i) inputs.push_back(rows_of(1, static_cast<float>(5 * i)));
  {
    Batcher batcher("m", 8, 0us, metrics);
    Blocker blocker;
    blocker.occupy(batcher, old_version);
    for (size_t i = 0; i < models.size(); ++i) submit(batcher, item_of(models[i], inputs[i], results.slot(i)));
    blocker.release();
    REQUIRE(results.wait_for(models.size()));
  }
  const auto passes = results.passes();
  CHECK(passes.size() == 4);
  for (const auto& pass : passes) {
    for (const size_t index : pass) CHECK(models[index] == models[pass.front()]);
  }
  for (size_t i = 0; i < models.size(); ++i) {
    CAPTURE(i);
    CHECK(torch::equal(results.at(i).outputs, models[i]->forward(inputs[i])));
  }
}

TEST_CASE("Batcher waits for a request still being parsed, up to max_queue_delay") {
  Metrics metrics;
  const Model model = doubling_model();
  Results results;
  Batcher batcher("m", 8, 5s, metrics);

  SUBCASE("it joins the pass") {
    batcher.arriving();
    batcher.arriving();
    batcher.submit(item_of(model, rows_of(1, 0), results.slot(0)));
    std::this_thread::sleep_for(20ms);
    CHECK(results.size() == 0);
    batcher.submit(item_of(model, rows_of(2, 3), results.slot(1)));
    REQUIRE(results.wait_for(2));
    CHECK(results.passes().size() == 1);
  }
  SUBCASE("one that is cancelled is not waited for") {
    const auto started = std::chrono::steady_clock::now();
    batcher.arriving();
    batcher.arriving();
    batcher.submit(item_of(model, rows_of(1, 0), results.slot(0)));
    batcher.cancel_arrival();
    REQUIRE(results.wait_for(1));
    CHECK(std::chrono::steady_clock::now() - started < 2s);
  }
  SUBCASE("a lone request does not wait") {
    const auto started = std::chrono::steady_clock::now();
    submit(batcher, item_of(model, rows_of(1, 0), results.slot(0)));
    REQUIRE(results.wait_for(1));
    CHECK(std::chrono::steady_clock::now() - started < 2s);
  }
}

TEST_CASE("Batcher passes a forward's failure to every item of the pass") {
  Metrics metrics;
  const Model model = model_computing("x.reshape([x.size(0), 2])");  // fails on 3 values a row
  Results results;
  Batcher batcher("m", 8, 0us, metrics);
  submit(batcher, item_of(model, rows_of(2, 0), results.slot(0)));
  REQUIRE(results.wait_for(1));
  CHECK_FALSE(results.at(0).outputs.defined());
  // InferenceModel::forward's own one-line message, as the server answers it (500).
  const std::string error = results.at(0).error;
  CAPTURE(error);
  CHECK(error.rfind("the model could not run on this input: ", 0) == 0);
  CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("Batcher::warm_up runs a forward pass that the metrics leave out") {
  Metrics metrics;
  Batcher batcher("m", 8, 0us, metrics);
  batcher.warm_up(doubling_model());
  CHECK(sample(metrics.exposition(), R"(mlc_inference_batch_size_count{model="m"})") == -1);
  CHECK(sample(metrics.exposition(), R"(mlc_inference_forward_duration_seconds_count{model="m"})") == -1);

  Results results;
  submit(batcher, item_of(doubling_model(), rows_of(1, 0), results.slot(0)));
  REQUIRE(results.wait_for(1));
  CHECK(sample(metrics.exposition(), R"(mlc_inference_batch_size_count{model="m"})") == 1);

  SUBCASE("a model that fails on zeros") {
    const Model broken = model_computing("x.reshape([x.size(0), 2])");
    try {
      batcher.warm_up(broken);
      FAIL("warm_up accepted a model that cannot run");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
      const std::string message = error.what();
      CAPTURE(message);
      CHECK(message.rfind("the model fails on an input of zeros: the model could not run on this input: ", 0) == 0);
      CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(sample(metrics.exposition(), R"(mlc_inference_batch_size_count{model="m"})") == 1);
  }
}

TEST_CASE("Batcher's destructor finishes what is queued") {
  Metrics metrics;
  const Model model = doubling_model();
  Results results;
  std::vector<torch::Tensor> inputs;
  for (int i = 0; i < 5; ++i) inputs.push_back(rows_of(i + 1, static_cast<float>(i)));
  auto batcher = std::make_unique<Batcher>("m", 2, 0us, metrics);
  Blocker blocker;
  blocker.occupy(*batcher, model);
  for (size_t i = 0; i < inputs.size(); ++i) submit(*batcher, item_of(model, inputs[i], results.slot(i)));
  // Released while the destructor is (most likely) already waiting; either way nothing is lost.
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    blocker.release();
  });
  batcher.reset();
  releaser.join();
  REQUIRE(results.size() == inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    CHECK(torch::equal(results.at(i).outputs, model->forward(inputs[i])));
  }
}
