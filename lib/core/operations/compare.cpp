// mlc compare A B: reuse or make one evaluation of each version on the same samples, then test
// the difference on the paired per-sample outcomes. Only a version without a usable evaluation
// is evaluated, so comparing two evaluated versions reads the catalogue and never loads libtorch.
#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// The files --data and --labels name, by the role an evaluation records them under.
std::vector<DataFile> named_files(const VersionRecord& version, const CompareOptions& options) {
  // As eval refuses them: whatever evaluations the catalogue holds must not change the answer.
  detail::check_data_flags(version, options.data, options.labels);
  if (!options.data) return {};
  std::vector<DataFile> files;
  auto add = [&](const char* role, const fs::path& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (status.type() == fs::file_type::not_found) {
      throw Error(ErrorKind::not_found, fmt::format("{}: no such file", path.string()));
    }
    if (status.type() != fs::file_type::regular) {
      throw Error(ErrorKind::invalid_input, fmt::format("{}: not a regular file", path.string()));
    }
    files.push_back({role, fs::absolute(path).lexically_normal().string(), sha256_file(path)});
  };
  add(detail::reads_idx(version) ? "test_images" : "path", *options.data);
  if (options.labels) add("test_labels", *options.labels);
  return files;
}

// Whether `evaluation` measured the data asked for: the version's own test split, or the named
// files (by role and sha256), with each sample's outcome recorded.
bool usable(const EvaluationRecord& evaluation, const std::vector<DataFile>& named) {
  if (evaluation.origin != "eval" || evaluation.data_fingerprint.empty() || !evaluation.on_test_split) {
    return false;
  }
  if (evaluation.correct.empty() && evaluation.squared_errors.empty()) return false;
  if (named.empty()) return *evaluation.on_test_split;
  if (*evaluation.on_test_split) return false;
  return std::all_of(named.begin(), named.end(), [&](const DataFile& file) {
    return std::any_of(evaluation.data_files.begin(), evaluation.data_files.end(), [&](const DataFile& had) {
      return had.role == file.role && had.sha256 == file.sha256;
    });
  });
}

ComparedVersion measure(const Session& session, const Catalog& catalog, VersionRecord version,
                        const CompareOptions& options) {
  const std::vector<DataFile> named = named_files(version, options);
  for (EvaluationRecord& evaluation : catalog.evaluations(version.id)) {
    if (usable(evaluation, named)) return {std::move(version), std::move(evaluation), false};
  }
  const std::string subject = detail::subject(version);
  if (version.origin == Origin::artifact) {
    throw Error(ErrorKind::refused,
                fmt::format("{} has no evaluation with per-sample outcomes on this data, and cannot be "
                            "evaluated: it was registered from a TorchScript file, without a checkpoint",
                            subject));
  }
  next_state(Action::evaluate, version.state, subject);  // a retired version is never run again
  EvaluationRecord evaluation =
      detail::evaluate_now(session, version, options.data, options.labels, detail::top_k_for(version, std::nullopt));
  return {std::move(version), std::move(evaluation), true};
}

// "3 files: path wine.csv" for messages about what an evaluation measured.
std::string data_text(const EvaluationRecord& evaluation) {
  std::string files;
  for (const auto& file : evaluation.data_files) {
    files += fmt::format("{}{} {}", files.empty() ? "" : ", ", file.role, fs::path(file.path).filename().string());
  }
  return fmt::format("{} samples of {}, data fingerprint {}", evaluation.samples, files,
                     evaluation.data_fingerprint.substr(0, 12));
}

// Refuses versions whose outputs mean different things, before anything is evaluated. A version
// registered from an artifact states no task; its evaluation, if one is reused, says it below.
void check_same_task(const VersionRecord& a, const VersionRecord& b) {
  const auto task = [](const VersionRecord& version) {
    return version.model_info.value("task", std::string("classification"));
  };
  if (a.origin == Origin::train && b.origin == Origin::train && task(a) != task(b)) {
    throw Error(ErrorKind::refused,
                fmt::format("{} is a {} model and {} a {} model: their metrics cannot be compared",
                            detail::subject(a), task(a), detail::subject(b), task(b)));
  }
  const auto classes_a = a.model_info.value("class_names", nlohmann::json::array());
  const auto classes_b = b.model_info.value("class_names", nlohmann::json::array());
  if (!classes_a.empty() && !classes_b.empty() && classes_a != classes_b) {
    throw Error(ErrorKind::refused, fmt::format("{} and {} have different classes ({} and {})",
                                                detail::subject(a), detail::subject(b), classes_a.dump(),
                                                classes_b.dump()));
  }
}

void check_comparable(const ComparedVersion& a, const ComparedVersion& b) {
  const bool a_classifies = !a.evaluation.correct.empty(), b_classifies = !b.evaluation.correct.empty();
  if (a_classifies != b_classifies) {
    throw Error(ErrorKind::refused,
                fmt::format("{} is a {} model and {} a {} model: their metrics cannot be compared",
                            detail::subject(a.version), a_classifies ? "classification" : "regression",
                            detail::subject(b.version), b_classifies ? "classification" : "regression"));
  }
  if (a.evaluation.data_fingerprint != b.evaluation.data_fingerprint ||
      a.evaluation.samples != b.evaluation.samples) {
    throw Error(ErrorKind::refused,
                fmt::format("{} and {} were tested on different samples ({}: {}; {}: {}); compare them "
                            "on one data set with --data FILE",
                            detail::subject(a.version), detail::subject(b.version),
                            detail::subject(a.version), data_text(a.evaluation),
                            detail::subject(b.version), data_text(b.evaluation)));
  }
}

std::optional<bool> same_training_data(const VersionRecord& a, const VersionRecord& b) {
  if (a.origin == Origin::artifact || b.origin == Origin::artifact) return std::nullopt;
  auto fingerprints = [](const VersionRecord& version) {
    std::set<std::pair<std::string, std::string>> pairs;
    for (const auto& file : version.data_files) pairs.emplace(file.role, file.sha256);
    return pairs;
  };
  return fingerprints(a) == fingerprints(b);
}

}  // namespace

CompareOutcome compare_versions(const Session& session, const CompareOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  VersionRecord a = catalog.resolve(options.a);
  VersionRecord b = catalog.resolve(options.b);
  if (a.id == b.id) {
    throw Error(ErrorKind::usage, fmt::format("{} and {} are the same version; compare needs two",
                                              options.a.text, options.b.text));
  }
  check_same_task(a, b);
  CompareOutcome outcome;
  outcome.a = measure(session, catalog, std::move(a), options);
  outcome.b = measure(session, catalog, std::move(b), options);
  check_comparable(outcome.a, outcome.b);
  outcome.test = outcome.a.evaluation.correct.empty()
                     ? paired_t_test(outcome.a.evaluation.squared_errors, outcome.b.evaluation.squared_errors)
                     : mcnemar_test(outcome.a.evaluation.correct, outcome.b.evaluation.correct);
  outcome.same_training_data = same_training_data(outcome.a.version, outcome.b.version);

  if (outcome.a.evaluated_now || outcome.b.evaluated_now) {
    catalog.in_transaction([&] {
      for (ComparedVersion* compared : {&outcome.a, &outcome.b}) {
        if (!compared->evaluated_now) continue;
        // Read again under the write lock: it may have been retired meanwhile; an evaluation
        // leaves any other state as it is.
        compared->version = catalog.resolve(detail::reference_to(compared->version));
        next_state(Action::evaluate, compared->version.state, detail::subject(compared->version));
        catalog.record_evaluation(compared->version, compared->evaluation,
                                  detail::note_for(session, evaluation_text(compared->evaluation)));
      }
    });
  }
  return outcome;
}

}  // namespace mlc
