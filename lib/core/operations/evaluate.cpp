#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/gate.hpp"
#include "mlc/json_output.hpp"
#include "mlc/sha256.hpp"

namespace mlc {
namespace {

// The metrics an evaluation records (classification: accuracy, loss; regression: loss, rmse, mae,
// r2); gates may name any of them.
constexpr std::array<const char*, 5> kEvalMetrics = {"accuracy", "loss", "rmse", "mae", "r2"};

}  // namespace

Gate parse_gate(const std::string& expression) {
  GateTerms terms = parse_gate_terms(expression, "--gate", ErrorKind::usage);
  bool known = false;
  for (const char* metric : kEvalMetrics) known = known || terms.metric == metric;
  if (!known) {
    throw Error(ErrorKind::usage, "--gate '" + expression + "': unknown metric '" + terms.metric +
                                      "' (metrics: accuracy, loss, rmse, mae, r2)");
  }
  return Gate{expression, std::move(terms.metric), std::move(terms.comparison), terms.threshold};
}

EvalOutcome evaluate_version(const Session& session, const EvalOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  const VersionRecord before = catalog.resolve(options.ref);
  next_state(Action::evaluate, before.state, detail::subject(before));  // refuse before computing
  const nlohmann::json data = detail::evaluation_data(before, options.data, options.labels);

  const EvalResult result =
      load_compute_backend().evaluate(detail::trained_model(session, before), data);
  if (!options.data) detail::check_unchanged_inputs(before, result.data_files);

  EvaluationRecord evaluation;
  evaluation.at = utc_now();
  evaluation.samples = result.samples;
  evaluation.metrics = result.metrics;
  evaluation.data_files = result.data_files;
  evaluation.gates = nlohmann::json::array();
  for (const auto& gate : options.gates) {
    const auto found = evaluation.metrics.find(gate.metric);
    if (found == evaluation.metrics.end()) {
      std::vector<std::string> names;
      for (const auto& metric : evaluation.metrics) names.push_back(metric.first);
      throw Error(ErrorKind::usage, fmt::format("--gate '{}': this model does not report '{}' "
                                                "(it reports {})",
                                                gate.expression, gate.metric, fmt::join(names, ", ")));
    }
    const double value = found->second;
    const bool passed = gate_passes(value, gate.comparison, gate.threshold);
    evaluation.passed = evaluation.passed && passed;
    evaluation.gates.push_back({{"expression", gate.expression}, {"passed", passed}, {"value", value}});
  }

  VersionRecord after = catalog.in_transaction([&] {
    // Read again under the write lock: another process may have moved it meanwhile.
    VersionRecord current = catalog.resolve(detail::reference_to(before));
    const State next = next_state(Action::evaluate, current.state, detail::subject(current));
    catalog.record_evaluation(current.id, evaluation);
    if (evaluation.passed && next != current.state) {
      catalog.record_transition(current, next,
                                detail::note_for(session, metrics_text(evaluation.metrics)));
      current.state = next;
    }
    return current;
  });
  return EvalOutcome{std::move(after), std::move(evaluation)};
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
