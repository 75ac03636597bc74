#include <set>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

constexpr double kSignificanceLevel = 0.05;

struct CompareFlags {
  std::string a;
  std::string b;
  std::optional<std::string> data;
  std::optional<std::string> labels;
};

nlohmann::json optional_number(const Metrics& metrics, const std::string& name) {
  const auto found = metrics.find(name);
  return found == metrics.end() ? nlohmann::json(nullptr) : nlohmann::json(found->second);
}

// Every metric either evaluation has: scalars first, then per-class ones ("recall[Shirt]").
std::vector<std::string> metric_names(const Metrics& a, const Metrics& b) {
  std::set<std::string> scalars, per_class;
  for (const Metrics* metrics : {&a, &b}) {
    for (const auto& [name, value] : *metrics) {
      (name.find('[') == std::string::npos ? scalars : per_class).insert(name);
    }
  }
  std::vector<std::string> names(scalars.begin(), scalars.end());
  names.insert(names.end(), per_class.begin(), per_class.end());
  return names;
}

nlohmann::json compared_json(const ComparedVersion& compared) {
  nlohmann::json document = version_summary_json(compared.version);
  document["evaluation"] = {{"at", compared.evaluation.at}, {"evaluated_now", compared.evaluated_now}};
  return document;
}

nlohmann::json test_json(const PairedTest& test) {
  nlohmann::json document = {{"name", test.name},
                             {"why", test.why},
                             {"samples", test.samples},
                             {"statistic", test.statistic},
                             {"p_value", test.p_value},
                             {"significant", test.p_value < kSignificanceLevel},
                             {"level", kSignificanceLevel}};
  if (test.name == "mcnemar_exact") {
    document["only_a_right"] = test.only_a_right;
    document["only_b_right"] = test.only_b_right;
  } else {
    document["mean_difference"] = test.mean_difference;
  }
  if (!std::isfinite(test.statistic)) document["statistic"] = nullptr;
  return document;
}

std::string test_text(const PairedTest& test, const std::string& a, const std::string& b) {
  const std::string verdict = test.p_value < kSignificanceLevel
                                  ? fmt::format("significant at the {} level", kSignificanceLevel)
                                  : fmt::format("not significant at the {} level", kSignificanceLevel);
  if (test.name == "mcnemar_exact") {
    return fmt::format("McNemar's exact test: {} samples only {} got right, {} only {}; p = {:.4g} "
                       "(chi-square {:.4g}): {}\n  why this test: {}",
                       test.only_a_right, a, test.only_b_right, b, test.p_value, test.statistic,
                       verdict, test.why);
  }
  if (test.samples < 2) {
    return fmt::format("Paired t-test on squared errors: {} sample, too few to test (p = 1)", test.samples);
  }
  return fmt::format("Paired t-test on squared errors: mean difference ({} - {}) {:.6g}, t = {:.4g} "
                     "with {} degrees of freedom; p = {:.4g}: {}\n  why this test: {}",
                     a, b, test.mean_difference, test.statistic, test.samples - 1, test.p_value,
                     verdict, test.why);
}

void run_compare(const CompareFlags& flags, CliState& state) {
  CompareOptions options;
  options.a = parse_reference(flags.a);
  options.b = parse_reference(flags.b);
  if (flags.data) options.data = *flags.data;
  if (flags.labels) options.labels = *flags.labels;
  const CompareOutcome outcome = compare_versions(state.session(), options);
  const std::string a = subject(outcome.a.version), b = subject(outcome.b.version);
  const EvaluationRecord& data = outcome.a.evaluation;

  nlohmann::json document;
  document["a"] = compared_json(outcome.a);
  document["b"] = compared_json(outcome.b);
  document["data"] = {{"fingerprint", data.data_fingerprint},
                      {"samples", data.samples},
                      {"on_test_split", data.on_test_split.value_or(false)},
                      {"data_files", data_files_json(data.data_files)}};
  document["metrics"] = nlohmann::json::array();
  document["test"] = test_json(outcome.test);
  document["same_training_data"] =
      outcome.same_training_data ? nlohmann::json(*outcome.same_training_data) : nlohmann::json(nullptr);

  std::string human = fmt::format("{} vs {} on {}: {} samples (data fingerprint {})\n", a, b,
                                  options.data ? "the data named with --data" : "their test split",
                                  data.samples, data.data_fingerprint.substr(0, 12));
  for (const ComparedVersion* compared : {&outcome.a, &outcome.b}) {
    human += compared->evaluated_now
                 ? fmt::format("  {}: evaluated now\n", subject(compared->version))
                 : fmt::format("  {}: its evaluation of {}\n", subject(compared->version), compared->evaluation.at);
  }
  human += fmt::format("  {:<28} {:>12} {:>12} {:>12}\n", "metric", shortened(a, 12), shortened(b, 12), "difference");
  for (const auto& name : metric_names(outcome.a.evaluation.metrics, outcome.b.evaluation.metrics)) {
    const nlohmann::json value_a = optional_number(outcome.a.evaluation.metrics, name);
    const nlohmann::json value_b = optional_number(outcome.b.evaluation.metrics, name);
    const nlohmann::json difference = value_a.is_null() || value_b.is_null()
                                          ? nlohmann::json(nullptr)
                                          : nlohmann::json(value_b.get<double>() - value_a.get<double>());
    document["metrics"].push_back({{"name", name}, {"a", value_a}, {"b", value_b}, {"difference", difference}});
    auto cell = [](const nlohmann::json& value, const char* format) {
      return value.is_null() ? std::string("-") : fmt::format(fmt::runtime(format), value.get<double>());
    };
    const bool count = name.rfind("support[", 0) == 0;  // a number of samples
    human += fmt::format("  {:<28} {:>12} {:>12} {:>12}\n", printable(shortened(name, 28)),
                         cell(value_a, count ? "{:.0f}" : "{:.4f}"), cell(value_b, count ? "{:.0f}" : "{:.4f}"),
                         cell(difference, count ? "{:+.0f}" : "{:+.4f}"));
  }
  human += test_text(outcome.test, a, b) + "\n";
  if (outcome.same_training_data == false) {
    human += fmt::format("note: {} and {} were trained on different data (their data files differ by "
                         "sha256): the difference is the data's as much as the models'\n", a, b);
  } else if (!outcome.same_training_data) {
    human += "note: one of them was registered from an artifact; what it was trained on is not known\n";
  }
  state.print(document, human);
}

}  // namespace

void setup_compare(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* command = app.add_subcommand(
      "compare", "Two versions' metrics on the same data side by side, with a paired significance test");
  command->add_option("a", flags->a, "The first version: NAME:VERSION, NAME@TARGET or NAME@ALIAS")->required();
  command->add_option("b", flags->b, "The second version")->required();
  command->add_option("--data", flags->data,
                      "Compare on this test data (a CSV file, or IDX images) instead of their test split");
  command->add_option("--labels", flags->labels, "IDX labels for --data images");
  command->callback([flags, &state] { run_compare(*flags, state); });
}

}  // namespace mlc::cli
