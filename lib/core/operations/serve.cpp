// mlc serve: the catalogue's side of serving. The server itself lives in the compute library
// (lib/compute/serving/); here are the flags' checks, the token and the one function it calls to
// learn what the target holds, which opens the catalogue afresh on each call (a catalogue created
// after the server started, by the first train, is picked up too).
#include <fmt/format.h>

#include "mlc/catalog.hpp"
#include "mlc/compute.hpp"
#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/json_input.hpp"
#include "mlc/operations.hpp"
#include "mlc/reference.hpp"

namespace mlc {
namespace {

// The token file's first line (a trailing newline or CR is not part of it).
std::string read_token(const std::filesystem::path& file) {
  std::string text = read_json_text(file);  // bounded read of any file, errors naming it
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) throw Error(ErrorKind::invalid_input, file.string() + ": the token file is empty");
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      throw Error(ErrorKind::invalid_input,
                  file.string() + ": the token must be one line of printable characters without spaces");
    }
  }
  return text;
}

std::vector<ServedVersion> read_target(const Home& home, const std::string& target) {
  const Catalog catalog(home, Catalog::Mode::existing);
  std::vector<ServedVersion> served;
  for (const Catalog::Deployment& deployment : catalog.deployments()) {
    if (deployment.target != target) continue;
    const VersionRecord version = catalog.version_by_id(deployment.version_id);
    if (!version.model_sha256) continue;  // deploy refuses unexported versions; never happens
    // A variant standing there (deploy --variant) is its own file: model.pt must hash to it.
    const auto variant = deployment.variant ? catalog.variant(version.id, *deployment.variant) : std::nullopt;
    ServedVersion entry{version.model, version.version,
                        variant ? variant->model_sha256 : *version.model_sha256, {}};
    const auto& data = version.config.is_object() ? version.config.value("data", nlohmann::json::object())
                                                  : nlohmann::json::object();
    if (data.contains("missing_values") && data.at("missing_values").is_array()) {
      entry.missing_values = data.at("missing_values").get<std::vector<std::string>>();
    }
    served.push_back(std::move(entry));
  }
  return served;
}

}  // namespace

void serve_target(const Session& session, const ServeOptions& options) {
  check_name(options.target, "target");
  if (options.port < 0 || options.port > 65535) {
    throw Error(ErrorKind::usage, fmt::format("--port {}: expected 0 to 65535", options.port));
  }
  ServeRequest request;
  request.target = options.target;
  request.target_dir = session.home.deployments_dir() / options.target;
  request.host = options.host;
  request.port = options.port;
  request.threads = options.threads;
  request.max_batch_size = options.max_batch_size;
  request.max_queue_delay_us = options.max_queue_delay_us;
  request.max_request_bytes = options.max_request_bytes;
  if (options.token_file) request.token = read_token(*options.token_file);
  const Home home = session.home;
  request.read_target = [home, target = options.target] { return read_target(home, target); };
  request.check_no_links = [home](const std::filesystem::path& dir) { check_inside_home(home, dir); };
  load_compute_backend().serve(request);
}

}  // namespace mlc
