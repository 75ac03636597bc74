#include "mlc/policy.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "mlc/baseline.hpp"
#include "mlc/error.hpp"
#include "mlc/gate.hpp"
#include "mlc/json_input.hpp"
#include "mlc/json_schema.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

std::string format_value(double value) { return fmt::format("{:.6g}", value); }

// The rules of one list (requires_metrics or requires_better_than), parsed with gate.hpp's grammar.
std::vector<MetricRule> metric_rules(const nlohmann::json& rules, const char* list,
                                     const std::string& origin, const std::string& target) {
  std::vector<MetricRule> parsed;
  const auto expressions = rules.value(list, nlohmann::json::array());
  for (size_t index = 0; index < expressions.size(); ++index) {
    // The schema checked the form; the reader also refuses a threshold beyond a double (1e999).
    const auto& expression = expressions[index].get_ref<const std::string&>();
    const std::string key =
        fmt::format("{}: targets.{}.{}[{}]:", origin, shortened(target, 40), list, index);
    GateTerms terms = parse_gate_terms(expression, key, ErrorKind::invalid_input);
    parsed.push_back(MetricRule{expression, std::move(terms.metric), std::move(terms.comparison),
                                terms.threshold, std::move(terms.baseline_target)});
  }
  return parsed;
}

// "current" in a requires_better_than rule is the target the rule guards.
std::string baseline_target_of(const MetricRule& rule, const std::string& target) {
  return *rule.baseline_target == "current" ? target : *rule.baseline_target;
}

// The newest evaluation the rules count, or why there is none, in words that end a refusal.
struct CountedEvaluation {
  std::optional<EvaluationRecord> evaluation;
  std::string why_none;
};

CountedEvaluation counted_evaluation(const Catalog& catalog, const VersionRecord& version,
                                     const TargetPolicy& rules, const std::string& target) {
  const std::vector<EvaluationRecord> all = catalog.evaluations(version.id);
  const EvaluationRecord* too_small = nullptr;  // the newest on trusted data but too few samples
  for (const auto& evaluation : all) {
    if (evaluation.origin != "eval" || !evaluation.on_test_split) continue;
    const bool named = std::find(rules.evaluation_data.begin(), rules.evaluation_data.end(),
                                 evaluation.data_fingerprint) != rules.evaluation_data.end();
    if (!named && (rules.evaluation_data_only || !*evaluation.on_test_split)) continue;
    if (evaluation.samples < rules.min_samples) {
      if (too_small == nullptr) too_small = &evaluation;
      continue;
    }
    return {evaluation, ""};
  }
  if (all.empty()) return {std::nullopt, "it has no recorded evaluation (run mlc eval)"};
  if (too_small != nullptr) {
    return {std::nullopt, fmt::format("its latest evaluation on data the policy counts has {} samples, fewer "
                                      "than targets.{}.min_samples ({})",
                                      too_small->samples, shortened(target, 40), rules.min_samples)};
  }
  if (rules.evaluation_data_only) {
    return {std::nullopt, fmt::format("it has no evaluation on the data targets.{}.evaluation_data names "
                                      "(evaluation_data_only); evaluate it with mlc eval {}:{} --data FILE",
                                      shortened(target, 40), version.model, version.version)};
  }
  const EvaluationRecord& latest = all.front();
  if (latest.origin == "manifest") {
    return {std::nullopt, "its metrics are self-reported by its manifest, which a policy never "
                          "counts; only evaluations mlc measured on its test split count"};
  }
  if (!latest.on_test_split) {
    return {std::nullopt, fmt::format("its evaluations were recorded before mlc recorded what data "
                                      "they measured; run mlc eval {}:{} again", version.model, version.version)};
  }
  return {std::nullopt,
          fmt::format("its evaluations were on other data than its test split (latest: {} samples, data "
                      "fingerprint {}), which counts only when targets.{}.evaluation_data names it; "
                      "run mlc eval {}:{} for its test split",
                      latest.samples, latest.data_fingerprint, shortened(target, 40), version.model,
                      version.version)};
}

}  // namespace

fs::path policy_file(const Home& home) { return home.root / "policy.json"; }

bool metric_passes(double value, const std::string& comparison, double threshold) {
  return gate_passes(value, comparison, threshold);
}

Policy parse_policy(std::string_view text, const std::string& origin) {
  const nlohmann::json document = parse_json(text, origin);
  validate_json(document, embedded_schema("policy.schema.json"), origin);
  Policy policy;
  policy.file = origin;
  for (const auto& [target, rules] : document.at("targets").items()) {
    TargetPolicy& target_policy = policy.targets[target];
    for (const auto& name : rules.value("requires_deployed_to", nlohmann::json::array())) {
      target_policy.requires_deployed_to.push_back(name);
    }
    target_policy.requires_metrics = metric_rules(rules, "requires_metrics", origin, target);
    target_policy.requires_better_than = metric_rules(rules, "requires_better_than", origin, target);
    for (const auto& fingerprint : rules.value("evaluation_data", nlohmann::json::array())) {
      target_policy.evaluation_data.push_back(fingerprint);
    }
    target_policy.evaluation_data_only = rules.value("evaluation_data_only", false);
    target_policy.min_samples = rules.value("min_samples", int64_t{0});
    const auto limits = rules.value("max_variant_drop", nlohmann::json::array());
    for (size_t index = 0; index < limits.size(); ++index) {
      target_policy.max_variant_drop.push_back(parse_max_drop(
          limits[index].get_ref<const std::string&>(),
          fmt::format("{}: targets.{}.max_variant_drop[{}]:", origin, shortened(target, 40), index),
          ErrorKind::invalid_input));
    }
  }
  return policy;
}

Policy load_policy(const Home& home) {
  const fs::path file = policy_file(home);
  std::error_code error;
  if (fs::symlink_status(file, error).type() == fs::file_type::not_found) return Policy{};
  std::string text;
  try {
    text = read_json_text(file);
  } catch (const Error& e) {
    // A policy that exists but cannot be read must not count as no policy; it is bad input.
    throw Error(ErrorKind::invalid_input, e.what());
  }
  Policy policy = parse_policy(text, file.string());
  policy.file = file;
  return policy;
}

namespace {

// A variant's measurement beside the fp32 export, as the evaluation the rules judge it by: it
// counts as an evaluation mlc made on the version's own test split.
CountedEvaluation counted_variant_measurement(const VariantRecord& variant, const TargetPolicy& rules,
                                              const std::string& target) {
  const bool named = std::find(rules.evaluation_data.begin(), rules.evaluation_data.end(),
                               variant.data_fingerprint) != rules.evaluation_data.end();
  if (rules.evaluation_data_only && !named) {
    return {std::nullopt, fmt::format("variant '{}' was measured on the version's test split, which "
                                      "targets.{}.evaluation_data_only does not count",
                                      variant.name, shortened(target, 40))};
  }
  if (variant.samples < rules.min_samples) {
    return {std::nullopt, fmt::format("variant '{}' was measured on {} samples, fewer than targets.{}.min_samples ({})",
                                      variant.name, variant.samples, shortened(target, 40), rules.min_samples)};
  }
  EvaluationRecord evaluation;
  evaluation.at = variant.created_at;
  evaluation.samples = variant.samples;
  evaluation.metrics = variant.variant.metrics;
  evaluation.data_fingerprint = variant.data_fingerprint;
  evaluation.on_test_split = true;
  return {evaluation, ""};
}

}  // namespace

void check_policy(const Policy& policy, const std::string& target, const VersionRecord& version,
                  const Catalog& catalog, const VariantRecord* variant) {
  const auto found = policy.targets.find(target);
  if (found == policy.targets.end()) return;
  const TargetPolicy& rules = found->second;
  const std::string subject = variant ? fmt::format("{}:{} (variant {})", version.model, version.version, variant->name)
                                      : fmt::format("{}:{}", version.model, version.version);
  auto refuse = [&](const std::string& rule, const std::string& why) {
    return Error(ErrorKind::refused,
                 fmt::format("{}: target '{}' refuses {}: rule {}: {}", policy.file.filename().string(),
                             target, subject, rule, why));
  };
  for (size_t i = 0; i < rules.requires_deployed_to.size(); ++i) {
    const std::string& earlier = rules.requires_deployed_to[i];
    if (!catalog.was_deployed_to(version.id, earlier, variant ? std::optional(variant->name) : std::nullopt)) {
      throw refuse(fmt::format("requires_deployed_to[{}]", i),
                   fmt::format("it has never been deployed to '{}'", earlier));
    }
  }
  for (size_t i = 0; variant != nullptr && i < rules.max_variant_drop.size(); ++i) {
    const MaxDrop& limit = rules.max_variant_drop[i];
    const std::string name = fmt::format("max_variant_drop[{}] '{}'", i, to_string(limit));
    const auto judged = judge_drop(limit, variant->fp32.metrics, variant->variant.metrics);
    if (!judged) {
      throw refuse(name, fmt::format("variant '{}' was not measured on {} beside the fp32 export",
                                     variant->name, limit.metric));
    }
    if (!judged->passes()) {
      throw refuse(name, fmt::format("{} went from {} (fp32) to {} in variant '{}', a drop of {:.3g}",
                                     limit.metric, format_value(judged->fp32), format_value(judged->variant),
                                     variant->name, judged->drop));
    }
  }
  if (rules.requires_metrics.empty() && rules.requires_better_than.empty()) return;
  const CountedEvaluation counted = variant ? counted_variant_measurement(*variant, rules, target)
                                            : counted_evaluation(catalog, version, rules, target);
  const std::optional<EvaluationRecord>& evaluation = counted.evaluation;
  for (size_t i = 0; i < rules.requires_metrics.size(); ++i) {
    const MetricRule& rule = rules.requires_metrics[i];
    const std::string name = fmt::format("requires_metrics[{}] '{}'", i, rule.expression);
    if (!evaluation) throw refuse(name, counted.why_none);
    const auto metric = evaluation->metrics.find(rule.metric);
    if (metric == evaluation->metrics.end()) {
      throw refuse(name, fmt::format("its latest counted evaluation ({}) has no metric '{}'",
                                     evaluation->at, rule.metric));
    }
    if (!metric_passes(metric->second, rule.comparison, rule.threshold)) {
      throw refuse(name, fmt::format("{} is {} in its latest counted evaluation ({})", rule.metric,
                                     format_value(metric->second), evaluation->at));
    }
  }
  for (size_t i = 0; i < rules.requires_better_than.size(); ++i) {
    const MetricRule& rule = rules.requires_better_than[i];
    const std::string name = fmt::format("requires_better_than[{}] '{}'", i, rule.expression);
    const std::string baseline_target = baseline_target_of(rule, target);
    const auto held = catalog.deployed_on(version.model_id, baseline_target);
    if (!held || held->id == version.id) continue;  // nothing to beat
    const std::string held_name = fmt::format("{}'s {}:{}", baseline_target, held->model, held->version);
    const std::string run = fmt::format(
        "run mlc eval {}:{} --gate '{}{}{}' (it evaluates {} on the same data too; when their test "
        "splits differ, evaluate on one file with --data FILE and list its data fingerprint in "
        "targets.{}.evaluation_data)", version.model,
        version.version, rule.metric, rule.comparison,
        relative_threshold_text(baseline_target, rule.threshold), held_name, shortened(target, 40));
    if (!evaluation) throw refuse(name, fmt::format("{}; to compare with {}: {}", counted.why_none, held_name, run));
    const auto baseline = comparable_evaluation(catalog, held->id, *evaluation);
    if (!baseline) {
      throw refuse(name, fmt::format("{} has no evaluation on the data of its latest counted "
                                     "evaluation ({}); {}", held_name, evaluation->at, run));
    }
    const auto value = evaluation->metrics.find(rule.metric);
    const auto baseline_value = baseline->metrics.find(rule.metric);
    if (value == evaluation->metrics.end() || baseline_value == baseline->metrics.end()) {
      throw refuse(name, fmt::format("its latest counted evaluation ({}) or {}'s on the same data ({}) has "
                                     "no metric '{}'", evaluation->at, held_name, baseline->at,
                                     rule.metric));
    }
    if (!metric_passes(value->second, rule.comparison, baseline_value->second + rule.threshold)) {
      throw refuse(name, fmt::format("{}, needs {} {}",
                                     comparison_text(rule.metric, value->second, baseline_target,
                                                     held->model, held->version, baseline_value->second),
                                     rule.comparison,
                                     relative_threshold_text(baseline_target, rule.threshold)));
    }
  }
}

}  // namespace mlc
