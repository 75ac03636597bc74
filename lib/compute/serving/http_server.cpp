#include "serving/http_server.hpp"

#include <atomic>
#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "mlc/error.hpp"
#include "serving/model_set.hpp"

namespace mlc::compute::serving {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::chrono::seconds kWriteTimeout{30};
constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr size_t kFirstRead = 16 * 1024;

// What every connection shares. Held by shared_ptr from each pending reply, so that a reply that
// comes after the server stopped (a forward pass that outlived the drain) posts to a live, if
// stopped, io_context.
struct ServerState {
  ServerState(const HttpOptions& chosen, Handler& routes) : io(chosen.threads), options(chosen), handler(routes) {}
  net::io_context io;
  HttpOptions options;
  Handler& handler;
  std::atomic<int> in_flight{0};  // from a request's first byte to its response's last
  std::atomic<bool> stopping{false};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  // Waits for a request's first bytes (an idle keep-alive connection is not in flight), then reads
  // the whole request; both within read_timeout.
  void read() {
    stream_.expires_after(state_->options.read_timeout);
    if (buffer_.size() > 0) {  // a pipelined request already arrived with the last one
      read_request();
      return;
    }
    stream_.async_read_some(buffer_.prepare(kFirstRead), [self = shared_from_this()](beast::error_code error, size_t n) {
      if (error || self->state_->stopping) {
        self->close();
        return;
      }
      self->buffer_.commit(n);
      // A request has begun: it gets the whole read timeout, however long the connection idled.
      self->stream_.expires_after(self->state_->options.read_timeout);
      self->read_request();
    });
  }

  void read_request() {
    ++state_->in_flight;
    head_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(static_cast<uint64_t>(state_->options.max_request_bytes));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, size_t) { self->on_read(error); });
  }

  void on_read(beast::error_code error) {
    if (error == http::error::body_limit) {
      reject(413, fmt::format("the request body is larger than {} bytes (--max-request-bytes)",
                              state_->options.max_request_bytes));
      return;
    }
    if (error == http::error::header_limit) {
      reject(431, fmt::format("the request headers are larger than {} bytes", kHeaderLimit));
      return;
    }
    const bool malformed = error && ((error.category() == beast::error_code(http::error::end_of_stream).category() &&
                                      error != http::error::end_of_stream && error != http::error::partial_message) ||
                                     error == net::error::no_buffer_space);
    if (malformed) {
      reject(400, "malformed HTTP request: " + error.message());
      return;
    }
    if (error) {  // the client closed, timed out (slow or idle) or reset: nothing to answer
      --state_->in_flight;
      close();
      return;
    }
    auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    head_ = request.method() == http::verb::head;
    stream_.expires_never();  // the handler may take its time; the write has its own timeout
    HttpRequest forwarded{std::string(request.method_string()), std::string(request.target()),
                          std::string(request[http::field::authorization]), std::move(request.body()),
                          std::string(request["Inference-Header-Content-Length"])};
    try {
      state_->handler.handle(std::move(forwarded), [self = shared_from_this()](HttpResponse response) {
        net::post(self->stream_.get_executor(),
                  [self, response = std::move(response)]() mutable { self->write(std::move(response), true); });
      });
    } catch (const std::exception& failure) {  // a bug in a handler: this request fails, not the server
      log_line(std::string("error: ") + failure.what());
      write({500, nlohmann::json({{"error", failure.what()}}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
             "application/json", {}, nullptr}, true);
    }
  }

  void reject(unsigned status, const std::string& message) {
    state_->handler.rejected(status);
    keep_alive_ = false;  // the rest of the request is unread: the connection cannot go on
    write({status, nlohmann::json({{"error", message}}).dump(), "application/json", {}, nullptr}, true);
  }

  void write(HttpResponse response, bool counted) {
    if (response.make_body) {
      try {
        response.body = response.make_body();
      } catch (const std::exception& failure) {  // e.g. out of memory: this request fails
        log_line(std::string("error: writing a response: ") + failure.what());
        response.status = 500;
        response.body = nlohmann::json({{"error", failure.what()}}).dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace);
      }
    }
    response_ = {static_cast<http::status>(response.status), version_ == 0 ? 11u : version_};
    response_.set(http::field::server, "mlc");
    response_.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    response_.keep_alive(keep_alive_ && !state_->stopping);
    response_.body() = std::move(response.body);
    response_.prepare_payload();
    if (head_) response_.body().clear();  // HEAD: the headers of the GET, Content-Length included
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, response_, [self = shared_from_this(), counted](beast::error_code error, size_t) {
      if (counted) --self->state_->in_flight;
      if (error || !self->response_.keep_alive()) {
        self->close();
      } else {
        self->read();
      }
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerState> state_;
  // Bounded: Beast 1.74 applies no header limit to chunk extensions and trailers, so an unbounded
  // buffer grows for as long as a client sends one (a 400 when full instead). Bodies go straight
  // into the request's string and never sit here.
  beast::flat_buffer buffer_{kHeaderLimit + 64 * 1024};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<ServerState> state, const tcp::endpoint& endpoint)
      : state_(std::move(state)), acceptor_(net::make_strand(state_->io)), retry_(acceptor_.get_executor()) {
    beast::error_code error;
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(net::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(net::socket_base::max_listen_connections, error);
    if (error) {
      throw Error(ErrorKind::usage, fmt::format("cannot listen on {}:{}: {}", endpoint.address().to_string(),
                                                endpoint.port(), error.message()));
    }
  }

  int port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    acceptor_.async_accept(net::make_strand(state_->io),
                           [self = shared_from_this()](beast::error_code error, tcp::socket socket) {
                             self->on_accept(error, std::move(socket));
                           });
  }

  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  void on_accept(beast::error_code error, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (error) {
      // Out of file descriptors, most likely: wait a little rather than spin on the error.
      if (error.message() != last_error_) log_line("error: accept: " + error.message());
      last_error_ = error.message();
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code) {
        if (self->acceptor_.is_open()) self->accept();
      });
      return;
    }
    last_error_.clear();
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), state_)->start();
    accept();
  }

  std::shared_ptr<ServerState> state_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::string last_error_;
};

tcp::endpoint resolve(net::io_context& io, const std::string& host, int port) {
  tcp::resolver resolver(io);
  beast::error_code error;
  const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, error);
  if (error || results.empty()) {
    throw Error(ErrorKind::usage, fmt::format("--host {}: cannot resolve it: {}", host, error.message()));
  }
  return results.begin()->endpoint();
}

// Each connection is a file descriptor, and 1024 (the usual soft limit) idle keep-alive
// connections would lock new clients out: take what the hard limit allows.
void raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// After a stop signal: waits for the requests in flight (up to the drain timeout), then stops.
void drain(const std::shared_ptr<ServerState>& state, std::shared_ptr<net::steady_timer> timer,
           std::chrono::steady_clock::time_point deadline) {
  if (state->in_flight == 0 || std::chrono::steady_clock::now() >= deadline) {
    state->io.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(10));
  timer->async_wait([state, timer, deadline](beast::error_code) { drain(state, timer, deadline); });
}

}  // namespace

void run_http_server(const HttpOptions& options, Handler& handler, const std::function<void(int port)>& on_listening,
                     const std::function<void(int in_flight)>& on_stopping) {
  auto state = std::make_shared<ServerState>(options, handler);
  raise_file_limit();
  auto listener = std::make_shared<Listener>(state, resolve(state->io, options.host, options.port));
  net::signal_set signals(state->io, SIGINT, SIGTERM);
  // serve() blocked these before it started any thread; now they have a handler, let them in
  // (one that came meanwhile is delivered now, and stops the server as it should).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  auto timer = std::make_shared<net::steady_timer>(state->io);
  signals.async_wait([&](beast::error_code error, int) {
    if (error) return;
    state->stopping = true;
    listener->stop();
    on_stopping(state->in_flight);
    drain(state, timer, std::chrono::steady_clock::now() + options.drain_timeout);
  });
  on_listening(listener->port());
  listener->accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&] { state->io.run(); });
  state->io.run();
  for (auto& thread : threads) thread.join();
}

}  // namespace mlc::compute::serving
