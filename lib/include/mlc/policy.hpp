// Promotion rules: MLC_HOME/policy.json can make a target protected, so that it accepts only
// versions that went through other targets first and whose recorded metrics pass thresholds.
// schemas/policy.schema.json describes the file:
//
//   {"targets": {"production": {"requires_deployed_to": ["staging"],
//                               "requires_metrics": ["accuracy>=0.9", "loss<=0.3"],
//                               "requires_better_than": ["accuracy>=@current-0.005"],
//                               "max_variant_drop": ["accuracy=0.005"]}}}
//
// A target the file does not name accepts any registered version.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlc/catalog.hpp"
#include "mlc/home.hpp"
#include "mlc/max_drop.hpp"

namespace mlc {

struct MetricRule {
  std::string expression;  // as written, e.g. "accuracy>=0.9"
  std::string metric;
  std::string comparison;  // >=, <=, >, <, ==
  double threshold = 0;    // a relative rule's margin
  std::optional<std::string> baseline_target;  // requires_better_than: "current" or a target
};

struct TargetPolicy {
  // The version must have been placed on each of these targets before (deployed or rolled back
  // to; it need not still be there).
  std::vector<std::string> requires_deployed_to;
  // The version's latest counted evaluation must pass each rule. Counted: measured by mlc on the
  // version's own test split, or on data whose fingerprint evaluation_data lists; never metrics a
  // manifest states (self-reported), an evaluation on other data, or one recorded before
  // evaluations recorded their data (catalogue schema 3).
  std::vector<MetricRule> requires_metrics;
  // Relative rules, "METRIC OP @TARGET[+-NUMBER]" (gate.hpp), where @current is the target being
  // deployed to: the version's latest counted evaluation must pass each against the version
  // TARGET holds now, evaluated on the same data (baseline.hpp). A target that holds no version
  // of the model, or holds this one, has nothing to beat: the rule passes.
  std::vector<MetricRule> requires_better_than;
  // Data fingerprints (EvaluationRecord::data_fingerprint) whose evaluations count too; with
  // evaluation_data_only, they alone count (not the version's own test split, whose size and rows
  // its own config chose).
  std::vector<std::string> evaluation_data;
  bool evaluation_data_only = false;
  // Evaluations on fewer samples do not count (0: any number).
  int64_t min_samples = 0;
  // A variant (deploy --variant) may have measured at most this much worse than the version's fp32
  // export, as mlc export measured both side by side (max_drop.hpp); the fp32 export passes.
  std::vector<MaxDrop> max_variant_drop;
};

struct Policy {
  std::filesystem::path file;  // where it was read from; empty when there is none
  std::map<std::string, TargetPolicy> targets;
};

// MLC_HOME/policy.json
std::filesystem::path policy_file(const Home& home);

// Reads and checks the policy (at most max_json_bytes(), json_input.hpp); no file means no rules.
// Throws Error(invalid_input) as parse_policy does, with FILE as ORIGIN, or "cannot read FILE:
// REASON" for a file that exists but cannot be read.
Policy load_policy(const Home& home);

// Parses and checks the text of a policy file: strict JSON (a duplicate key, such as a second
// "targets" that would replace every rule, is refused), then schemas/policy.schema.json, then each
// metric rule (parse_gate_terms in gate.hpp: no regex, safe at any length). `origin` names the
// text in messages and becomes Policy::file. Throws Error(invalid_input) naming the key at fault
// ("ORIGIN: targets.production.requires_metrics[0]: ...") or the line and column of invalid JSON
// ("ORIGIN:1:13: invalid JSON: ...").
Policy parse_policy(std::string_view text, const std::string& origin);


// Whether `comparison` holds between `value` and `threshold`.
bool metric_passes(double value, const std::string& comparison, double threshold);

// Checks the version against the rules of `target`. Throws Error(refused) naming the target, the
// version and the first rule that fails, e.g. "policy.json: target 'production' refuses m:3:
// rule requires_deployed_to[0]: it has never been deployed to 'staging'". A requires_better_than
// rule without evaluations to compare (none of the version by mlc eval, or none of the target's
// version on the same data) refuses, naming the mlc eval command that makes them. Call under the
// transaction that deploys, so that the rules are checked against what is committed with it.
//
// requires_deployed_to needs the same file to have stood on each target: the version's fp32 export,
// or with `variant` (deploy --variant) that variant of it. With `variant` the metric rules read the
// variant's own measurement on the version's test split (it counts as mlc's evaluation on that
// split, subject to evaluation_data_only and min_samples), and max_variant_drop judges it against
// the fp32 export's measurement from the same run; a variant without that metric (an ONNX one,
// never deployable anyway) is refused.
void check_policy(const Policy& policy, const std::string& target, const VersionRecord& version,
                  const Catalog& catalog, const VariantRecord* variant = nullptr);

}  // namespace mlc
