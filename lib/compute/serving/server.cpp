#include "serving/server.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <pthread.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "mlc/environment.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"
#include "inference/inference_model.hpp"
#include "serving/http_server.hpp"
#include "serving/model_set.hpp"
#include "serving/oip.hpp"
#include "torch_error.hpp"

namespace mlc::compute::serving {
namespace {

using Clock = std::chrono::steady_clock;

HttpResponse json_response(unsigned status, const nlohmann::json& body) {
  return {status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json", {}, nullptr};
}

HttpResponse error_response(unsigned status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

HttpResponse wrong_method(const char* allowed, const std::string& target) {
  HttpResponse response = error_response(405, fmt::format("use {} for {}", allowed, target));
  response.headers.emplace_back("Allow", allowed);
  return response;
}

// Compares without stopping at the first difference, so that timing does not reveal the token.
bool same_secret(const std::string& given, const std::string& expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ expected[i % std::max<size_t>(expected.size(), 1)]);
  }
  return difference == 0;
}

std::vector<std::string> path_parts(const std::string& target) {
  std::vector<std::string> parts;
  const std::string path = target.substr(0, target.find('?'));
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The routes of the Open Inference Protocol V2 (REST), plus /metrics.
class Router : public Handler {
 public:
  Router(const ServeRequest& request, ModelSet& models, Metrics& metrics)
      : request_(request), models_(models), metrics_(metrics) {}

  void handle(HttpRequest request, Respond respond) override {
    const auto started = Clock::now();
    const std::vector<std::string> parts = path_parts(request.target);
    auto reply = [&metrics = metrics_, respond = std::move(respond)](HttpResponse response) {
      metrics.http_response(response.status);
      respond(std::move(response));
    };
    const bool get = request.method == "GET" || request.method == "HEAD";  // HEAD: GET's headers
    if (parts.size() == 3 && parts[0] == "v2" && parts[1] == "health" && (parts[2] == "live" || parts[2] == "ready")) {
      if (!get) return reply(wrong_method("GET, HEAD", request.target));
      if (parts[2] == "live") return reply(json_response(200, {{"live", true}}));
      const bool ready = models_.ready();
      return reply(json_response(ready ? 200 : 503, {{"ready", ready}}));
    }
    if (!request_.token.empty() && !authorized(request.authorization)) {
      HttpResponse refused = error_response(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)");
      refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mlc\"");
      return reply(std::move(refused));
    }
    if (parts.size() == 1 && parts[0] == "metrics") {
      if (!get) return reply(wrong_method("GET, HEAD", request.target));
      return reply({200, metrics_.exposition(), "text/plain; version=0.0.4; charset=utf-8", {}, nullptr});
    }
    if (parts.size() == 1 && parts[0] == "v2") {
      if (!get) return reply(wrong_method("GET, HEAD", request.target));
      return reply(json_response(200, {{"name", "mlc"}, {"version", mlc_version()}, {"extensions", nlohmann::json::array({"binary_tensor_data"})}}));
    }
    if (parts.size() < 3 || parts[0] != "v2" || parts[1] != "models") {
      return reply(error_response(404, "no such endpoint: " + request.target));
    }
    // /v2/models/NAME[/versions/V][/ready|/infer]
    const std::string& name = parts[2];
    size_t next = 3;
    std::optional<std::string> version;
    if (parts.size() > next + 1 && parts[next] == "versions") {
      version = parts[next + 1];
      next += 2;
    }
    const std::string action = parts.size() == next + 1 ? parts[next] : parts.size() == next ? "" : "?";
    if (action != "" && action != "ready" && action != "infer") {
      return reply(error_response(404, "no such endpoint: " + request.target));
    }
    if ((action == "infer") != (request.method == "POST") || (action != "infer" && !get)) {
      return reply(wrong_method(action == "infer" ? "POST" : "GET, HEAD", request.target));
    }
    const ModelSet::Serving serving = models_.find(name);
    if (!serving.model) {
      const bool listed = models_.listed(name);
      // Labels are never strings a client made up: an unknown model counts under model="".
      if (action == "infer") metrics_.request_done(listed ? name : "", "", listed ? "unavailable" : "not_found", 0);
      if (listed) return reply(error_response(503, fmt::format("model '{}' is not loaded (yet)", name)));
      return reply(error_response(404, fmt::format("unknown model '{}' on target '{}'", name, request_.target)));
    }
    if (version && *version != serving.model->version()) {
      if (action == "infer") metrics_.request_done(name, "", "not_found", 0);
      return reply(error_response(404, fmt::format("model '{}' has no version '{}' here: version {} is serving",
                                                   name, *version, serving.model->version())));
    }
    if (action == "") return reply(json_response(200, model_metadata(*serving.model)));
    if (action == "ready") return reply(json_response(200, {{"name", name}, {"ready", true}}));
    std::optional<size_t> json_length;
    if (!request.inference_header_length.empty()) {
      const std::string& text = request.inference_header_length;
      if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
        return reply(error_response(400, "Inference-Header-Content-Length must be a number of bytes"));
      }
      json_length = std::stoull(text);
    }
    infer(std::move(request.body), json_length, serving, started, std::move(reply));
  }

  void rejected(unsigned status) override { metrics_.http_response(status); }

 private:
  bool authorized(const std::string& header) const {
    const std::string scheme = "bearer ";  // the scheme is case-insensitive (RFC 9110 11.1)
    if (header.size() <= scheme.size()) return false;
    for (size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
    }
    return same_secret(header.substr(scheme.size()), request_.token);
  }

  template <typename Reply>
  void infer(std::string body, std::optional<size_t> json_length, const ModelSet::Serving& serving,
             Clock::time_point started, Reply reply) {
    const std::shared_ptr<const InferenceModel> model = serving.model;
    serving.batcher->arriving();
    InferRequest parsed;
    try {
      parsed = parse_infer_request(std::move(body), *model, json_length);
    } catch (const Error& error) {
      serving.batcher->cancel_arrival();
      metrics_.request_done(model->name(), model->version(), "bad_request", 0);
      return reply(error_response(400, error.what()));
    } catch (const std::exception& error) {  // e.g. libtorch out of memory: this request only
      serving.batcher->cancel_arrival();
      metrics_.request_done(model->name(), model->version(), "error", 0);
      return reply(error_response(500, first_line_of(error)));
    }
    metrics_.in_flight(1);
    auto request = std::make_shared<InferRequest>(std::move(parsed));
    BatchItem item{model, request->batch, Clock::now(), nullptr};
    // Runs on the batcher's thread, possibly after this Router is gone (a batch finishing while the
    // server stops): it touches only the Metrics, which outlive the batchers.
    item.done = [&metrics = metrics_, model, request, started, reply](BatchResult result) {
      metrics.in_flight(-1);
      if (!result.error.empty()) {
        metrics.request_done(model->name(), model->version(), "error", 0);
        return reply(error_response(500, result.error));
      }
      HttpResponse response{200, "", "application/json", {}, nullptr};
      response.make_body = [&metrics, model, request, outputs = std::move(result.outputs), started] {
        std::string text = infer_response(*model, *request, outputs.data_ptr<float>(), outputs.size(0));
        metrics.request_done(model->name(), model->version(), "success",
                             std::chrono::duration<double>(Clock::now() - started).count());
        return text;
      };
      reply(std::move(response));
    };
    serving.batcher->submit(std::move(item));
  }

  const ServeRequest& request_;
  ModelSet& models_;
  Metrics& metrics_;
};

std::chrono::seconds read_timeout() {
  const auto value = environment_variable("MLC_SERVE_READ_TIMEOUT_SECONDS");
  if (!value) return std::chrono::seconds(30);
  const char* text = value->c_str();
  char* end = nullptr;
  const long seconds = std::strtol(text, &end, 10);
  if (*end != '\0' || seconds < 1 || seconds > 3600) {
    throw Error(ErrorKind::usage, fmt::format("MLC_SERVE_READ_TIMEOUT_SECONDS={}: expected 1 to 3600 seconds", text));
  }
  return std::chrono::seconds(seconds);
}

}  // namespace

void serve(const ServeRequest& request) {
  // SIGINT and SIGTERM wait, blocked in every thread started from here, until the HTTP server has
  // its handler for them (run_http_server unblocks them): a stop during start-up is then a clean
  // stop, not a kill. A closed stderr must not kill the server either.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Small models: one thread per forward pass, many passes (HTTP threads, batchers) side by side.
  at::set_num_threads(1);
  // The profiling executor re-optimises a module for each new batch size it sees; a server sees
  // many, and these models gain nothing from it.
  torch::jit::setGraphExecutorOptimize(false);

  HttpOptions options;
  options.host = request.host;
  options.port = request.port;
  options.threads = request.threads > 0 ? request.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_request_bytes = request.max_request_bytes;
  options.read_timeout = read_timeout();

  Metrics metrics;
  ModelSet models(request, metrics);
  models.refresh();  // what the target holds now, loaded before the first request
  Router router(request, models, metrics);

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread watcher([&] {
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, std::chrono::duration<double>(request.poll_seconds), [&] { return stopping; })) {
      lock.unlock();
      try {
        models.refresh();
      } catch (const std::exception& error) {  // e.g. no thread for a new batcher: try again later
        log_line(std::string("error: ") + error.what());
      }
      lock.lock();
    }
  });
  struct StopWatcher {
    std::mutex& mutex;
    std::condition_variable& wake;
    bool& stopping;
    std::thread& watcher;
    ~StopWatcher() {
      {
        const std::lock_guard lock(mutex);
        stopping = true;
      }
      wake.notify_all();
      watcher.join();
    }
  } stop_watcher{mutex, wake, stopping, watcher};

  run_http_server(
      options, router,
      [&](int port) {
        log_line(fmt::format("listening on http://{}:{} (target {}, {} HTTP threads, batches up to {}, queue delay up to {} us)",
                             request.host, port, request.target, options.threads, request.max_batch_size,
                             request.max_queue_delay_us));
      },
      [](int in_flight) { log_line(fmt::format("stopping ({} requests in flight)", in_flight)); });
  log_line("stopped");
}

}  // namespace mlc::compute::serving
