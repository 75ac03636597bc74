#include "common.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/text.hpp"

namespace mlc::detail {
namespace fs = std::filesystem;

ArtifactStore artifact_store(const Session& session) {
  return ArtifactStore(session.home.artifacts_dir());
}

TransitionNote note_for(const Session& session, const std::string& reason, std::string target) {
  // The history keeps its rows for good and prints them as JSON (UTF-8 only). The CLI refuses
  // such bytes in what users type; this is for text composed here, e.g. "registered from" a file
  // whose name is not UTF-8, and for callers other than the CLI.
  return TransitionNote{session.actor, printable(reason), printable(session.command_line),
                        std::move(target), session.host};
}

std::string subject(const VersionRecord& version) {
  return fmt::format("{}:{}", version.model, version.version);
}

std::string subject(const Placement& placement) {
  return placement.variant ? fmt::format("{} (variant {})", subject(placement.version), *placement.variant)
                           : subject(placement.version);
}

std::optional<std::string> variant_on(const VersionRecord& version, const std::string& target) {
  const auto found = version.target_variants.find(target);
  if (found == version.target_variants.end()) return std::nullopt;
  return found->second;
}

VariantRecord variant_of(const Catalog& catalog, const VersionRecord& version, const std::string& name) {
  if (auto found = catalog.variant(version.id, name)) return std::move(*found);
  std::vector<std::string> names;
  for (const VariantRecord& variant : catalog.variants(version.id)) names.push_back(variant.name);
  throw Error(ErrorKind::not_found,
              fmt::format("{} has no variant named '{}' ({})", subject(version), name,
                          names.empty() ? std::string("it has none; mlc export --variant makes one")
                                        : fmt::format("its variants: {}", fmt::join(names, ", "))));
}

Reference reference_to(const VersionRecord& version) {
  return Reference{Reference::Kind::version, version.model, version.version, {}, subject(version)};
}

void require_checkpoint(const VersionRecord& version) {
  if (version.origin == Origin::artifact) {
    throw Error(ErrorKind::refused, subject(version) +
                                        " was registered from a TorchScript file: it has no checkpoint "
                                        "or train config to evaluate, run or rebuild it from");
  }
}

TrainedModel trained_model(const Session& session, const VersionRecord& version) {
  require_checkpoint(version);
  const ArtifactStore store = artifact_store(session);
  store.verify(version.checkpoint_sha256);
  return TrainedModel{version.config, version.model_info, store.path_of(version.checkpoint_sha256)};
}

bool reads_idx(const VersionRecord& version) {
  return version.config.is_object() && version.config.contains("data") &&
         version.config["data"].value("format", "") == "idx";
}

void check_data_flags(const VersionRecord& version, const std::optional<fs::path>& data,
                      const std::optional<fs::path>& labels) {
  if (!data) {
    if (labels) throw Error(ErrorKind::usage, "--labels needs --data (the images it labels)");
    return;
  }
  const bool idx = reads_idx(version);
  if (!idx && labels) throw Error(ErrorKind::usage, "--labels is for IDX data; this model reads CSV");
  if (idx && !labels) throw Error(ErrorKind::usage, "IDX data needs --labels FILE beside --data FILE");
}

nlohmann::json evaluation_data(const VersionRecord& version,
                               const std::optional<fs::path>& data,
                               const std::optional<fs::path>& labels) {
  require_checkpoint(version);
  nlohmann::json config = version.config.at("data");
  check_data_flags(version, data, labels);
  if (!data) return config;
  const std::string data_path = fs::absolute(*data).lexically_normal().string();
  // The evaluation records the file names as JSON, which holds only UTF-8.
  check_utf8(data_path, "--data");
  if (labels) check_utf8(fs::absolute(*labels).string(), "--labels");
  if (config.at("format") == "csv") {
    config["path"] = data_path;
    config["test_fraction"] = 1.0;  // every row of the named file is a test row
    config.erase("delimiter");      // the training file's; the named file's own is sniffed
    return config;
  }
  config["test_images"] = data_path;
  config["test_labels"] = fs::absolute(*labels).lexically_normal().string();
  config.erase("test_limit");
  return config;
}

// K of the top-K accuracy an evaluation records: --top-k, else 5 for a model of more than 5
// classes, else none (0): top-5 of 5 classes or fewer is always 1.
int top_k_for(const VersionRecord& version, std::optional<int> requested) {
  const bool classifier = version.model_info.value("task", "") == "classification";
  if (!classifier) {
    if (requested) {
      throw Error(ErrorKind::usage, fmt::format("--top-k: {} is a regression model; top-k accuracy "
                                                "is for classifiers", detail::subject(version)));
    }
    return 0;
  }
  const int classes = static_cast<int>(version.model_info.value("class_names", nlohmann::json::array()).size());
  if (!requested) return classes > 5 ? 5 : 0;
  if (*requested < 1 || *requested >= classes) {
    throw Error(ErrorKind::usage, fmt::format("--top-k {}: {} has {} classes; K must be from 1 to {}",
                                              *requested, detail::subject(version), classes, classes - 1));
  }
  return *requested;
}

EvaluationRecord evaluate_now(const Session& session, const VersionRecord& version,
                              const std::optional<fs::path>& data, const std::optional<fs::path>& labels,
                              int top_k) {
  const nlohmann::json config = evaluation_data(version, data, labels);
  EvalResult result = load_compute_backend().evaluate(trained_model(session, version), config,
                                                      EvalSettings{top_k});
  if (!data) check_unchanged_inputs(version, result.data_files);
  EvaluationRecord evaluation;
  evaluation.at = utc_now();
  evaluation.samples = result.samples;
  evaluation.metrics = std::move(result.metrics);
  evaluation.details = std::move(result.details);
  evaluation.data_files = std::move(result.data_files);
  evaluation.data_fingerprint = std::move(result.data_fingerprint);
  evaluation.on_test_split = !data.has_value();
  evaluation.correct = std::move(result.correct);
  evaluation.squared_errors = std::move(result.squared_errors);
  evaluation.gates = nlohmann::json::array();
  return evaluation;
}

void check_unchanged_inputs(const VersionRecord& version, const std::vector<DataFile>& actual) {
  for (const auto& now : actual) {
    for (const auto& then : version.data_files) {
      if (then.path == now.path && then.sha256 != now.sha256) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{} changed since {} was trained (sha256 was {}, is now {}); "
                                "name the test data with --data",
                                now.path, subject(version), then.sha256, now.sha256));
      }
    }
  }
}

namespace {

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string packed_ref(const fs::path& git_dir, const std::string& ref) {
  std::ifstream in(git_dir / "packed-refs");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 41 && line.compare(41, std::string::npos, ref) == 0) return line.substr(0, 40);
  }
  return "";
}

}  // namespace

std::string git_commit_of_working_directory() {
  std::error_code error;
  for (fs::path dir = fs::current_path(error); !error && !dir.empty(); dir = dir.parent_path()) {
    const fs::path git_dir = dir / ".git";
    if (fs::is_directory(git_dir)) {
      const std::string head = first_line(git_dir / "HEAD");
      if (head.rfind("ref: ", 0) != 0) return head;  // detached HEAD: the commit itself
      const std::string ref = head.substr(5);
      const std::string loose = first_line(git_dir / ref);
      return loose.empty() ? packed_ref(git_dir, ref) : loose;
    }
    if (dir == dir.root_path()) break;
  }
  return "";
}

bool resolves_inside(const fs::path& path, const fs::path& root) {
  std::error_code error;
  const fs::path resolved_root = fs::weakly_canonical(root, error);
  if (error) return false;  // no home to resolve: nothing can be inside it
  const fs::path resolved = fs::weakly_canonical(path, error);
  const fs::path& compared = error ? path : resolved;
  return std::mismatch(resolved_root.begin(), resolved_root.end(), compared.begin(), compared.end())
             .first == resolved_root.end();
}

}  // namespace mlc::detail
