// HTTP/1.1 with keep-alive on Boost.Beast: asynchronous, so an idle connection costs a socket and
// a buffer, not a thread. Knows nothing of inference: requests go to a Handler.
//
// Bounded by design: a request's headers (16 KiB) and body (max_request_bytes: 413 beyond) have
// limits, and a request must arrive whole within read_timeout of the connection starting to wait
// for it (a client sending one byte a second is cut off; so is a connection idle that long).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mlc::compute::serving {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query, as sent
  std::string authorization;  // the Authorization header, "" if none
  std::string body;
  std::string inference_header_length;  // the Inference-Header-Content-Length header, "" if none
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // more, e.g. WWW-Authenticate
  // When set, the body is made by this on the connection's own HTTP thread, just before it is
  // written: a batch's responses are then serialised by the HTTP threads side by side, not one
  // after another by the thread that ran the batch.
  std::function<std::string()> make_body;
};

// Sends the response; callable once, from any thread.
using Respond = std::function<void(HttpResponse)>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs on an HTTP thread; may call respond() later from another thread.
  virtual void handle(HttpRequest request, Respond respond) = 0;
  // A response the server made itself (413, 400 for malformed HTTP), for the metrics.
  virtual void rejected(unsigned status) = 0;
};

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 1;
  int64_t max_request_bytes = 16 << 20;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds drain_timeout{30};  // how long SIGTERM waits for requests in flight
};

// Listens, then runs until SIGINT or SIGTERM: stops accepting, lets the requests in flight finish
// (up to drain_timeout) and returns. A request counts as in flight from its first byte: one still
// arriving when the signal comes is read, answered and its connection closed. `on_listening` gets the bound port (port 0: the kernel's
// choice) before the first request is accepted. Throws Error(usage) if the address cannot be
// bound, naming it and the reason.
void run_http_server(const HttpOptions& options, Handler& handler, const std::function<void(int port)>& on_listening,
                     const std::function<void(int in_flight)>& on_stopping);

}  // namespace mlc::compute::serving
