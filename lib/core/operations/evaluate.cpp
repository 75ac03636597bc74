#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/baseline.hpp"
#include "mlc/error.hpp"
#include "mlc/gate.hpp"
#include "mlc/json_output.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace {

// The metrics an evaluation records (README, "Metrics"); gates may name any of them.
constexpr std::array<const char*, 13> kEvalMetrics = {
    "accuracy", "loss",         "f1_macro",     "f1_weighted",  "ece",          "rmse",        "mae",
    "r2",       "residual_p05", "residual_p25", "residual_p50", "residual_p75", "residual_p95"};
constexpr std::array<const char*, 4> kPerClassMetrics = {"precision", "recall", "f1", "support"};
constexpr const char* kMetricsList =
    "accuracy, loss, f1_macro, f1_weighted, ece, topK_accuracy, precision[CLASS], recall[CLASS], "
    "f1[CLASS], support[CLASS], rmse, mae, r2, residual_p05, residual_p25, residual_p50, "
    "residual_p75, residual_p95";

// topK_accuracy for a whole number K, e.g. top5_accuracy.
bool is_top_k_accuracy(std::string_view metric) {
  constexpr std::string_view prefix = "top", suffix = "_accuracy";
  if (metric.size() <= prefix.size() + suffix.size() || metric.substr(0, prefix.size()) != prefix ||
      metric.substr(metric.size() - suffix.size()) != suffix) {
    return false;
  }
  const std::string_view k = metric.substr(prefix.size(), metric.size() - prefix.size() - suffix.size());
  return std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_eval_metric(const std::string& metric) {
  const size_t bracket = metric.find('[');
  if (bracket != std::string::npos) {
    const std::string name = metric.substr(0, bracket);
    return std::any_of(kPerClassMetrics.begin(), kPerClassMetrics.end(),
                       [&](const char* known) { return name == known; });
  }
  return is_top_k_accuracy(metric) ||
         std::any_of(kEvalMetrics.begin(), kEvalMetrics.end(),
                     [&](const char* known) { return metric == known; });
}

// A gate naming a metric this evaluation does not have: a class the model does not know, a top-k
// accuracy of another K, or a metric of the other task. Names the ones it has, per-class metrics
// by their classes.
Error not_reported(const Gate& gate, const Metrics& metrics) {
  std::vector<std::string> names, classes;
  constexpr std::string_view recall = "recall[";
  for (const auto& [name, value] : metrics) {
    if (name.find('[') == std::string::npos) names.push_back(name);
    if (name.rfind(recall, 0) == 0) classes.push_back(name.substr(recall.size(), name.size() - recall.size() - 1));
  }
  const size_t bracket = gate.metric.find('[');
  if (bracket != std::string::npos && !classes.empty()) {
    const std::string class_name = gate.metric.substr(bracket + 1, gate.metric.size() - bracket - 2);
    return Error(ErrorKind::usage, fmt::format("--gate '{}': this model has no class '{}' (its classes: {})",
                                               gate.expression, class_name, fmt::join(classes, ", ")));
  }
  return Error(ErrorKind::usage, fmt::format("--gate '{}': this model does not report '{}' (it reports {})",
                                             gate.expression, gate.metric, fmt::join(names, ", ")));
}

// What a relative gate compares with: the version its target holds and that version's evaluation
// on the same data, or why there is none.
struct Baseline {
  std::optional<VersionRecord> version;
  std::optional<EvaluationRecord> evaluation;
  bool evaluated_now = false;  // measured by this command, to be recorded with it
  std::string reason;          // when there is no evaluation to compare with
};

EvaluationRecord run_evaluation(const Session& session, const VersionRecord& version,
                                const EvalOptions& options) {
  return detail::evaluate_now(session, version, options.data, options.labels,
                              detail::top_k_for(version, options.top_k));
}

// The baseline of gates relative to `target`: its evaluation on the data `evaluation` measured,
// else a new one of the target's version on the same data (options.data, or its own test split).
Baseline find_baseline(const Session& session, const Catalog& catalog, const VersionRecord& candidate,
                       const EvaluationRecord& evaluation, const EvalOptions& options,
                       const std::string& target) {
  Baseline baseline;
  baseline.version = catalog.deployed_on(candidate.model_id, target);
  if (!baseline.version) {
    baseline.reason = fmt::format("{} holds no version of {}", target, candidate.model);
    return baseline;
  }
  const std::string held = fmt::format("{}'s {}", target, detail::subject(*baseline.version));
  if (baseline.version->id == candidate.id) {
    baseline.evaluation = evaluation;
    return baseline;
  }
  baseline.evaluation = comparable_evaluation(catalog, baseline.version->id, evaluation);
  if (baseline.evaluation) return baseline;
  if (baseline.version->origin == Origin::artifact) {
    throw Error(ErrorKind::refused,
                fmt::format("{} has no evaluation on the same data, and cannot be evaluated: it was "
                            "registered from a TorchScript file, without a checkpoint",
                            held));
  }
  EvaluationRecord fresh = run_evaluation(session, *baseline.version, options);
  baseline.evaluated_now = true;
  if (!same_data(fresh, evaluation)) {
    baseline.reason = fmt::format("{} was tested on other data than {} ({} samples, data fingerprint "
                                  "{}); name the data to compare on with --data",
                                  held, detail::subject(candidate), fresh.samples, fresh.data_fingerprint);
  }
  baseline.evaluation = std::move(fresh);
  return baseline;
}

// A relative gate's outcome, as EvalOutcome describes it.
nlohmann::json relative_gate(const Gate& gate, double value, const std::string& target,
                             const Baseline& baseline) {
  nlohmann::json outcome = {{"expression", gate.expression}, {"passed", false}, {"value", value}};
  nlohmann::json base = {{"target", target}, {"version", nullptr}};
  if (baseline.version) base["version"] = baseline.version->version;
  if (baseline.evaluation) base["evaluated_at"] = baseline.evaluation->at;
  outcome["baseline"] = base;
  std::string reason = baseline.reason;
  if (reason.empty()) {
    const auto found = baseline.evaluation->metrics.find(gate.metric);
    if (found == baseline.evaluation->metrics.end()) {
      reason = fmt::format("{}'s {} has no '{}' on this data", target,
                           detail::subject(*baseline.version), gate.metric);
    } else {
      const double threshold = found->second + gate.threshold;
      outcome["baseline"]["value"] = found->second;
      outcome["threshold"] = threshold;
      outcome["difference"] = value - found->second;
      outcome["passed"] = gate_passes(value, gate.comparison, threshold);
    }
  }
  if (!reason.empty()) outcome["reason"] = reason;
  return outcome;
}

}  // namespace

Gate parse_gate(const std::string& expression) {
  GateTerms terms = parse_gate_terms(expression, "--gate", ErrorKind::usage);
  if (!is_eval_metric(terms.metric)) {
    throw Error(ErrorKind::usage, "--gate '" + expression + "': unknown metric '" + terms.metric +
                                      "' (metrics: " + kMetricsList + ")");
  }
  return Gate{expression, std::move(terms.metric), std::move(terms.comparison), terms.threshold,
              std::move(terms.baseline_target)};
}

EvalOutcome evaluate_version(const Session& session, const EvalOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  const VersionRecord before = catalog.resolve(options.ref);
  next_state(Action::evaluate, before.state, detail::subject(before));  // refuse before computing
  EvaluationRecord evaluation = run_evaluation(session, before, options);
  for (const auto& gate : options.gates) {  // every metric named, before any baseline is evaluated
    if (!evaluation.metrics.count(gate.metric)) throw not_reported(gate, evaluation.metrics);
  }
  std::map<std::string, Baseline> baselines;  // by target
  for (const auto& gate : options.gates) {
    if (gate.baseline_target && !baselines.count(*gate.baseline_target)) {
      baselines[*gate.baseline_target] =
          find_baseline(session, catalog, before, evaluation, options, *gate.baseline_target);
    }
  }
  for (const auto& gate : options.gates) {
    const double value = evaluation.metrics.at(gate.metric);
    nlohmann::json outcome =
        gate.baseline_target
            ? relative_gate(gate, value, *gate.baseline_target, baselines.at(*gate.baseline_target))
            : nlohmann::json{{"expression", gate.expression},
                             {"passed", gate_passes(value, gate.comparison, gate.threshold)},
                             {"value", value}};
    evaluation.passed = evaluation.passed && outcome.at("passed").get<bool>();
    evaluation.gates.push_back(std::move(outcome));
  }
  std::vector<BaselineEvaluation> baselines_evaluated;
  for (const auto& [target, baseline] : baselines) {
    if (baseline.evaluated_now) {
      baselines_evaluated.push_back({target, *baseline.version, *baseline.evaluation});
    }
  }

  VersionRecord after = catalog.in_transaction([&] {
    // Read again under the write lock: another process may have moved it meanwhile.
    VersionRecord current = catalog.resolve(detail::reference_to(before));
    const State next = next_state(Action::evaluate, current.state, detail::subject(current));
    catalog.record_evaluation(current, evaluation, detail::note_for(session, evaluation_text(evaluation)));
    // The baselines' versions are recorded as measured, whatever their targets hold by now.
    for (const auto& baseline : baselines_evaluated) {
      const VersionRecord now = catalog.resolve(detail::reference_to(baseline.version));
      catalog.record_evaluation(now, baseline.evaluation,
                                detail::note_for(session, evaluation_text(baseline.evaluation)));
    }
    if (evaluation.passed && next != current.state) {
      catalog.record_transition(current, next,
                                detail::note_for(session, metrics_text(evaluation.metrics)));
      current.state = next;
    }
    return current;
  });
  return EvalOutcome{std::move(after), std::move(evaluation), std::move(baselines_evaluated)};
}

PredictOutcome predict_version(const Session& session, const PredictOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  VersionRecord version = catalog.resolve(options.ref);
  if (version.state == State::retired) {
    throw Error(ErrorKind::refused, "cannot predict with " + detail::subject(version) +
                                        ": it is retired; a retired version is final and can never be used again");
  }
  const nlohmann::json data = detail::evaluation_data(version, options.data, options.labels);
  if (!options.data) {
    std::vector<DataFile> now;
    for (const auto& file : version.data_files) now.push_back({file.role, file.path, sha256_file(file.path)});
    detail::check_unchanged_inputs(version, now);
  }
  Predictions predictions = load_compute_backend().predict(detail::trained_model(session, version),
                                                           data, options.limit);
  return PredictOutcome{std::move(version), std::move(predictions)};
}

}  // namespace mlc
