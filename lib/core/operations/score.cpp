#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "mlc/json_input.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// The bytes of a stored artifact, hashed as read: what is scored is exactly what the catalogue
// recorded, even if the file changes after a separate check.
std::string read_stored(const ArtifactStore& store, const std::string& sha256) {
  const fs::path file = store.path_of(sha256);
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    throw Error(ErrorKind::integrity,
                "artifact " + sha256 + " is missing from the store (" + file.string() + ")");
  }
  std::string bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  const std::string actual = sha256_bytes(bytes);
  if (actual != sha256) {
    throw Error(ErrorKind::integrity, "artifact " + file.string() + " is corrupt: its sha256 is " + actual);
  }
  return bytes;
}

std::vector<std::string> missing_values_of(const VersionRecord& version) {
  const nlohmann::json* data = version.config.is_object() && version.config.contains("data")
                                   ? &version.config.at("data")
                                   : nullptr;
  if (data != nullptr && data->contains("missing_values")) {
    return data->at("missing_values").get<std::vector<std::string>>();
  }
  return {"", "NA", "NaN"};  // the train config's default (data.missing_values)
}

ScoreRequest request_for(const Session& session, const VersionRecord& version, const fs::path& input) {
  ScoreRequest request;
  request.name = version.model;
  request.version = version.version;
  request.input = input;
  request.missing_values = missing_values_of(version);
  request.config = version.config;
  if (version.model_sha256 && version.manifest_sha256) {
    const ArtifactStore store = detail::artifact_store(session);
    request.script = read_stored(store, *version.model_sha256);
    request.manifest = parse_json(read_stored(store, *version.manifest_sha256),
                                  store.path_of(*version.manifest_sha256).string());
  } else {
    request.trained = detail::trained_model(session, version);
  }
  return request;
}

fs::path checked_output(const Session& session, const fs::path& requested, const fs::path& input) {
  const fs::path output = fs::absolute(requested).lexically_normal();
  if (!requested.has_filename() || fs::is_directory(output)) {
    throw Error(ErrorKind::usage, "--output " + requested.string() + " names a directory; name the CSV file");
  }
  // The home's files are mlc's own: the catalogue and the store must never be overwritten.
  if (detail::resolves_inside(output.parent_path(), session.home.root) ||
      detail::resolves_inside(output, session.home.root)) {
    throw Error(ErrorKind::usage, "--output " + requested.string() + " is inside MLC_HOME (" +
                                      session.home.root.string() + "); write the scores outside it");
  }
  std::error_code error;
  if (fs::equivalent(output, input, error)) {
    throw Error(ErrorKind::usage, "--output " + requested.string() + " is the --input file");
  }
  return output;
}

// A CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void append_row(std::string& csv, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) csv += ',';
    csv += csv_field(fields[i]);
  }
  csv += '\n';
}

void check_column_names(const ScoreResult& result, const fs::path& input) {
  for (const std::string& added : score_column_names(result)) {
    for (const std::string& passed : result.columns) {
      if (passed == added) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: column '{}' has the name of a column the scores add; rename it",
                                input.string(), passed));
      }
    }
  }
}

}  // namespace

std::vector<std::string> score_column_names(const ScoreResult& result) {
  if (result.regression) return {"predicted_value"};
  std::vector<std::string> names = {"predicted_index", "predicted_label"};
  for (const std::string& label : result.labels) names.push_back("p_" + label);
  return names;
}

std::string scores_csv(const ScoreResult& result) {
  std::string csv;
  std::vector<std::string> header = result.columns;
  for (std::string& name : score_column_names(result)) header.push_back(std::move(name));
  append_row(csv, header);
  for (size_t row = 0; row < result.outputs.size(); ++row) {
    std::vector<std::string> fields = result.passed[row];
    if (result.regression) {
      fields.push_back(fmt::format("{}", result.outputs[row].at(0)));
    } else {
      const int64_t label = result.predicted[row];
      fields.push_back(std::to_string(label));
      fields.push_back(result.labels.at(static_cast<size_t>(label)));
      for (float p : result.probabilities[row]) fields.push_back(fmt::format("{}", p));
    }
    append_row(csv, fields);
  }
  return csv;
}

ScoreOutcome score_version(const Session& session, const ScoreOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  VersionRecord version = catalog.resolve(options.ref);
  if (version.state == State::retired) {
    throw Error(ErrorKind::refused, "cannot predict with " + detail::subject(version) +
                                        ": it is retired; a retired version is final and can never be used again");
  }
  ScoreOutcome outcome;
  outcome.input = fs::absolute(options.input).lexically_normal();
  if (options.output) outcome.output = checked_output(session, *options.output, outcome.input);
  // As typed: the messages name the file the way its user does.
  const ScoreRequest request = request_for(session, version, options.input);
  outcome.exported = !request.script.empty();
  outcome.result = load_compute_backend().score(request);
  check_column_names(outcome.result, options.input);
  if (outcome.output) {
    try {
      write_file_atomically(*outcome.output, scores_csv(outcome.result));
    } catch (const Error& error) {
      throw Error(ErrorKind::invalid_input, "--output " + options.output->string() + ": " + error.what());
    }
  }
  outcome.version = std::move(version);
  return outcome;
}

}  // namespace mlc
