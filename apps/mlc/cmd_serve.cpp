#include <limits>

#include "cli.hpp"

namespace mlc::cli {

void setup_serve(CLI::App& app, CliState& state) {
  auto options = std::make_shared<ServeOptions>();
  auto token_file = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve every model deployed on a target over HTTP (Open Inference Protocol V2), swapped live");
  command->add_option("--target", options->target, "The target whose models to serve")->required();
  command->add_option("--host", options->host, "Address to listen on")->capture_default_str();
  command->add_option("--port", options->port, "Port to listen on (0: any free port, logged)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--threads", options->threads, "HTTP threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  command->add_option("--token-file", *token_file,
                      "File whose first line is the bearer token every request but health needs");
  command->add_option("--max-batch-size", options->max_batch_size,
                      "Most samples one forward pass gathers from concurrent requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  command->add_option("--max-queue-delay-us", options->max_queue_delay_us,
                      "Longest a request waits for others to join its batch (microseconds)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  command->add_option("--max-request-bytes", options->max_request_bytes,
                      "Largest request body accepted (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  command->callback([options, token_file, &state] {
    ServeOptions chosen = *options;
    if (!token_file->empty()) chosen.token_file = *token_file;
    serve_target(state.session(), chosen);
  });
}

}  // namespace mlc::cli
