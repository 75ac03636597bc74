#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "serving/metrics.hpp"
#include "test_files.hpp"

using mlc::compute::serving::Histogram;
using mlc::compute::serving::Metrics;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The exposition of a Metrics that has seen one of everything, for a model whose name needs every
// escape.
std::string busy_exposition() {
  Metrics metrics;
  const std::string odd = "a\"b\\c\nd";
  metrics.request_done("wine", "3", "success", 0.002);
  metrics.request_done("wine", "3", "success", 0.02);
  metrics.request_done("wine", "", "not_found", 0);
  metrics.request_done(odd, "1", "bad_request", 0);
  metrics.batch_done("wine", 2, {0.0001, 0.0003}, 0.001);
  metrics.batch_done(odd, 300, {0.5}, 20);
  metrics.in_flight(3);
  metrics.in_flight(-1);
  metrics.model_loaded("wine", true, false);
  metrics.model_loaded("wine", true, true);
  metrics.model_loaded(odd, false, false);
  metrics.http_response(200);
  metrics.http_response(200);
  metrics.http_response(404);
  return metrics.exposition();
}

// The sample lines of the exposition, as "series value".
std::map<std::string, std::string> samples_of(const std::string& exposition) {
  std::map<std::string, std::string> samples;
  for (const std::string& line : lines_of(exposition)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = line.substr(space + 1);
  }
  return samples;
}

}  // namespace

TEST_CASE("Histogram writes cumulative buckets, the sum and the count") {
  Histogram histogram({1, 2, 5});
  for (const double value : {0.5, 1.0, 1.5, 3.0, 10.0}) histogram.observe(value);
  std::string out;
  histogram.write(out, "h", R"(model="m")");
  CHECK(out ==
        "h_bucket{model=\"m\",le=\"1\"} 2\n"  // a value on a bound is in its bucket (le: <=)
        "h_bucket{model=\"m\",le=\"2\"} 3\n"
        "h_bucket{model=\"m\",le=\"5\"} 4\n"
        "h_bucket{model=\"m\",le=\"+Inf\"} 5\n"
        "h_sum{model=\"m\"} 16\n"
        "h_count{model=\"m\"} 5\n");

  SUBCASE("without labels") {
    std::string bare;
    Histogram({0.00005, 0.25}).write(bare, "t", "");
    CHECK(bare ==
          "t_bucket{le=\"5e-05\"} 0\n"
          "t_bucket{le=\"0.25\"} 0\n"
          "t_bucket{le=\"+Inf\"} 0\n"
          "t_sum 0\n"
          "t_count 0\n");
  }
}

TEST_CASE("Metrics::exposition follows Prometheus's text format") {
  const std::string exposition = busy_exposition();
  const std::vector<std::string> lines = lines_of(exposition);
  REQUIRE_FALSE(lines.empty());
  CHECK(exposition.back() == '\n');

  SUBCASE("# HELP then # TYPE before each family's samples, one block per family") {
    const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
    const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
    const std::regex sample_line(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? [-+0-9.e]+)");
    std::set<std::string> families_seen;
    std::string family;
    std::string family_type;
    for (size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(lines[i]);
      std::smatch match;
      if (std::regex_match(lines[i], match, help)) {
        family = match[1];
        CHECK(families_seen.insert(family).second);
        REQUIRE(i + 1 < lines.size());
        std::smatch typed;
        REQUIRE(std::regex_match(lines[i + 1], typed, type));
        CHECK(typed[1] == family);
        family_type = typed[2];
        ++i;
        continue;
      }
      REQUIRE(std::regex_match(lines[i], match, sample_line));
      const std::string name = match[1];
      REQUIRE_FALSE(family.empty());
      if (family_type == "histogram") {
        CHECK((name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
      } else {
        CHECK(name == family);
      }
      if (family_type == "counter") CHECK(name.size() > 6);
      if (family_type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
    }
    for (const char* expected : {"mlc_inference_requests_total", "mlc_inference_request_duration_seconds",
                                 "mlc_inference_queue_duration_seconds", "mlc_inference_forward_duration_seconds",
                                 "mlc_inference_batch_size", "mlc_inference_requests_in_flight",
                                 "mlc_model_loads_total", "mlc_model_swaps_total", "mlc_http_responses_total",
                                 "process_resident_memory_bytes"}) {
      CHECK(families_seen.count(expected) == 1);
    }
  }
  SUBCASE("the samples") {
    const auto samples = samples_of(exposition);
    CHECK(samples.at(R"(mlc_inference_requests_total{model="wine",version="3",outcome="success"})") == "2");
    CHECK(samples.at(R"(mlc_inference_requests_total{model="wine",version="",outcome="not_found"})") == "1");
    CHECK(samples.at(R"(mlc_inference_request_duration_seconds_count{model="wine"})") == "2");
    CHECK(samples.at(R"(mlc_inference_request_duration_seconds_bucket{model="wine",le="0.0025"})") == "1");
    CHECK(samples.at(R"(mlc_inference_request_duration_seconds_bucket{model="wine",le="0.025"})") == "2");
    CHECK(samples.at(R"(mlc_inference_queue_duration_seconds_count{model="wine"})") == "2");
    CHECK(samples.at(R"(mlc_inference_forward_duration_seconds_count{model="wine"})") == "1");
    CHECK(samples.at(R"(mlc_inference_batch_size_sum{model="wine"})") == "2");
    CHECK(samples.at(R"(mlc_inference_batch_size_bucket{model="wine",le="1"})") == "0");
    CHECK(samples.at(R"(mlc_inference_batch_size_bucket{model="wine",le="2"})") == "1");
    CHECK(samples.at(R"(mlc_inference_requests_in_flight)") == "2");
    CHECK(samples.at(R"(mlc_model_loads_total{model="wine",outcome="success"})") == "2");
    CHECK(samples.at(R"(mlc_model_swaps_total{model="wine"})") == "1");
    CHECK(samples.at(R"(mlc_http_responses_total{code="200"})") == "2");
    CHECK(samples.at(R"(mlc_http_responses_total{code="404"})") == "1");
    CHECK(std::stod(samples.at("process_resident_memory_bytes")) > 1e6);
  }
  SUBCASE("label values escaped: backslash, double quote, newline") {
    const auto samples = samples_of(exposition);
    CHECK(samples.at(R"(mlc_inference_requests_total{model="a\"b\\c\nd",version="1",outcome="bad_request"})") ==
          "1");
    CHECK(samples.at(R"(mlc_inference_batch_size_bucket{model="a\"b\\c\nd",le="256"})") == "0");
    CHECK(samples.at(R"(mlc_inference_batch_size_bucket{model="a\"b\\c\nd",le="+Inf"})") == "1");
    CHECK(samples.at(R"(mlc_model_loads_total{model="a\"b\\c\nd",outcome="failure"})") == "1");
  }
  SUBCASE("an empty Metrics still has every family's header") {
    const std::string empty = Metrics().exposition();
    CHECK(empty.find("# TYPE mlc_inference_requests_total counter\n") != std::string::npos);
    CHECK(empty.find("mlc_inference_requests_in_flight 0\n") != std::string::npos);
  }
}

TEST_CASE("Metrics::exposition passes promtool check metrics") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: no promtool (scripts/install-deps.sh installs it)");
    return;
  }
  mlc::test::TempDir dir;
  for (const bool empty : {false, true}) {
    CAPTURE(empty);
    const auto file = dir.write("metrics.txt", empty ? Metrics().exposition() : busy_exposition());
    const std::string command = "timeout 20 promtool check metrics < '" + file.string() + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buffer[512];
    while (const size_t read = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, read);
    const int status = ::pclose(pipe);
    CAPTURE(output);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(output == "");
  }
}
