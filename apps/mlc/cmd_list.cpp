#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "mlc/error.hpp"
#include "mlc/json_output.hpp"
#include "mlc/listing.hpp"
#include "mlc/reference.hpp"
#include "mlc/text.hpp"
#include "mlc/text_table.hpp"

namespace mlc::cli {
namespace {

constexpr size_t kDescriptionChars = 40;

struct ListFlags {
  std::optional<std::string> model;
  std::optional<std::string> state;
  std::vector<std::string> tags;
  std::string sort = "name";
  std::optional<int64_t> limit;
};

std::string metric_cell(const std::optional<double>& value, bool self_reported) {
  if (!value) return "-";
  return fmt::format("{:.4f}{}", *value, self_reported ? "*" : "");
}

// The description on one line, shortened: "A description far longer than any table..."
std::string description_cell(const std::string& description) {
  std::string text = shortened(description, kDescriptionChars);
  if (text.size() > 3 && text.compare(text.size() - 3, 3, "...") == 0) {
    const size_t end = text.find_last_not_of(' ', text.size() - 4);
    text = text.substr(0, end == std::string::npos ? 0 : end + 1) + "...";
  }
  return printable(text);
}

std::string human_table(const std::vector<ListedVersion>& versions, const std::string& sort) {
  // A metric sorted by that is not the headline gets a column of its own.
  const auto& headlines = headline_metrics();
  const bool sort_column = sort != "name" && sort != "created" &&
                           std::find(headlines.begin(), headlines.end(), sort) == headlines.end();
  std::vector<std::string> headers{"MODEL", ">VERSION", "STATE", "CREATED", "METRIC", ">VALUE"};
  if (sort_column) headers.push_back(">" + printable(sort));
  for (const char* header : {"TARGETS", "DESCRIPTION"}) headers.emplace_back(header);
  TextTable table(headers);
  bool any_self_reported = false;
  for (const auto& listed : versions) {
    const VersionRecord& version = listed.version;
    const std::optional<Headline> best = headline(listed);
    const bool self_reported = listed.evaluation_origin == "manifest";
    any_self_reported = any_self_reported || (self_reported && !listed.metrics.empty());
    std::vector<std::string> row{
        version.model,
        std::to_string(version.version),
        std::string(to_string(version.state)),
        version.created_at,
        best ? best->metric : "-",
        metric_cell(best ? std::optional<double>(best->value) : std::nullopt, self_reported)};
    if (sort_column) {
      const auto found = listed.metrics.find(sort);
      row.push_back(metric_cell(found == listed.metrics.end() ? std::nullopt : std::optional<double>(found->second),
                                self_reported));
    }
    row.push_back(version.targets.empty() ? "-" : fmt::format("{}", fmt::join(version.targets, ",")));
    row.push_back(description_cell(version.description));
    table.add_row(std::move(row));
  }
  std::string text = table.render();
  if (any_self_reported) {
    text += "* self-reported by a registered artifact's manifest, not measured by mlc\n";
  }
  return text;
}

void run_list(const ListFlags& flags, CliState& state) {
  ListFilter filter;
  if (flags.model) {
    check_name(*flags.model, "model name");
    filter.model = flags.model;
  }
  if (flags.state) filter.state = parse_state(*flags.state);
  for (const auto& tag : flags.tags) filter.tags.insert(parse_tag(tag));
  const ListOrder order{flags.sort, flags.limit};
  filter.metrics = headline_metrics();
  if (order.sort != "name" && order.sort != "created" &&
      std::find(filter.metrics.begin(), filter.metrics.end(), order.sort) == filter.metrics.end()) {
    filter.metrics.push_back(order.sort);
  }

  const auto versions = list_versions(state.session(), filter, order);

  auto rows = nlohmann::json::array();
  for (const auto& version : versions) rows.push_back(listed_version_json(version));
  state.print({{"versions", rows}}, versions.empty() ? "no versions" : human_table(versions, order.sort));
}

}  // namespace

void setup_list(CLI::App& app, CliState& state) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* command = app.add_subcommand(
      "list", "List model versions: state, headline metric (accuracy or rmse), targets, description");
  command->add_option("name", flags->model, "Only this model");
  command->add_option("--state", flags->state, "Only versions in this state");
  command->add_option("--tag", flags->tags, "Only versions with this tag, KEY=VALUE (repeatable: all must match)");
  command->add_option("--sort", flags->sort,
                      "name (model, then version; the default), created (oldest first), or a metric of "
                      "the latest evaluation, e.g. accuracy, rmse, loss, f1_macro (best first, "
                      "versions without it last)");
  command->add_option("--limit", flags->limit,
                      "Only N versions: the newest (by creation) in --sort name or created's order, "
                      "or the best N by --sort METRIC");
  command->callback([flags, &state] { run_list(*flags, state); });
}

}  // namespace mlc::cli
