#include "mlc/policy.hpp"

#include <utility>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/gate.hpp"
#include "mlc/json_input.hpp"
#include "mlc/json_schema.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

std::string format_value(double value) { return fmt::format("{:.6g}", value); }

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
    const auto metric_rules = rules.value("requires_metrics", nlohmann::json::array());
    for (size_t index = 0; index < metric_rules.size(); ++index) {
      // The schema checked the form; the reader also refuses a threshold beyond a double (1e999).
      const auto& expression = metric_rules[index].get_ref<const std::string&>();
      const std::string key = fmt::format("{}: targets.{}.requires_metrics[{}]:", origin,
                                          shortened(target, 40), index);
      GateTerms terms = parse_gate_terms(expression, key, ErrorKind::invalid_input);
      target_policy.requires_metrics.push_back(MetricRule{
          expression, std::move(terms.metric), std::move(terms.comparison), terms.threshold});
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

void check_policy(const Policy& policy, const std::string& target, const VersionRecord& version,
                  const Catalog& catalog) {
  const auto found = policy.targets.find(target);
  if (found == policy.targets.end()) return;
  const TargetPolicy& rules = found->second;
  auto refuse = [&](const std::string& rule, const std::string& why) {
    return Error(ErrorKind::refused,
                 fmt::format("{}: target '{}' refuses {}:{}: rule {}: {}", policy.file.filename().string(),
                             target, version.model, version.version, rule, why));
  };
  for (size_t i = 0; i < rules.requires_deployed_to.size(); ++i) {
    const std::string& earlier = rules.requires_deployed_to[i];
    if (!catalog.was_deployed_to(version.id, earlier)) {
      throw refuse(fmt::format("requires_deployed_to[{}]", i),
                   fmt::format("it has never been deployed to '{}'", earlier));
    }
  }
  if (rules.requires_metrics.empty()) return;
  const auto evaluation = catalog.latest_evaluation(version.id);
  for (size_t i = 0; i < rules.requires_metrics.size(); ++i) {
    const MetricRule& rule = rules.requires_metrics[i];
    const std::string name = fmt::format("requires_metrics[{}] '{}'", i, rule.expression);
    if (!evaluation) throw refuse(name, "it has no recorded evaluation (run mlc eval)");
    const auto metric = evaluation->metrics.find(rule.metric);
    if (metric == evaluation->metrics.end()) {
      throw refuse(name, fmt::format("its latest evaluation ({}) has no metric '{}'", evaluation->at,
                                     rule.metric));
    }
    if (!metric_passes(metric->second, rule.comparison, rule.threshold)) {
      throw refuse(name, fmt::format("{} is {} in its latest evaluation ({})", rule.metric,
                                     format_value(metric->second), evaluation->at));
    }
  }
}

}  // namespace mlc
