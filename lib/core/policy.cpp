#include "mlc/policy.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

MetricRule parse_rule(const std::string& expression) {
  // The schema's pattern has already checked the form.
  static const std::regex kRule(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*(\S+)\s*$)");
  std::smatch match;
  std::regex_match(expression, match, kRule);
  return MetricRule{expression, match[1], match[2], std::stod(match[3].str())};
}

std::string format_value(double value) { return fmt::format("{:.6g}", value); }

}  // namespace

fs::path policy_file(const Home& home) { return home.root / "policy.json"; }

bool metric_passes(double value, const std::string& comparison, double threshold) {
  if (comparison == ">=") return value >= threshold;
  if (comparison == "<=") return value <= threshold;
  if (comparison == ">") return value > threshold;
  if (comparison == "<") return value < threshold;
  return value == threshold;
}

Policy load_policy(const Home& home) {
  Policy policy;
  const fs::path file = policy_file(home);
  std::ifstream in(file);
  if (!in) {
    if (fs::exists(file)) throw Error(ErrorKind::invalid_input, "cannot read " + file.string());
    return policy;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorKind::invalid_input, file.string() + ": invalid JSON: " + e.what());
  }
  validate_json(document, embedded_schema("policy.schema.json"), file.string());
  policy.file = file;
  for (const auto& [target, rules] : document.at("targets").items()) {
    TargetPolicy& target_policy = policy.targets[target];
    for (const auto& name : rules.value("requires_deployed_to", nlohmann::json::array())) {
      target_policy.requires_deployed_to.push_back(name);
    }
    for (const auto& rule : rules.value("requires_metrics", nlohmann::json::array())) {
      target_policy.requires_metrics.push_back(parse_rule(rule));
    }
  }
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
