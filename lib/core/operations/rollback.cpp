#include <algorithm>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace {

// A version row id and the variant of it that stood (nullopt: the fp32 export).
using Held = std::pair<int64_t, std::optional<std::string>>;

// What the target held, oldest at the bottom, as its log tells it: a deploy pushes the version
// (with its variant), a rollback pops the one it replaced (the one below is what it returned to),
// a remove (retire --force) pops the retired one. Walking down this stack is what makes rollback
// repeatable.
std::vector<Held> held_versions(const std::vector<TargetChange>& log) {
  std::vector<Held> stack;
  for (const auto& change : log) {
    switch (change.kind) {
      case TargetChange::Kind::deploy:
        stack.emplace_back(*change.version_id, change.variant);
        break;
      case TargetChange::Kind::rollback: {
        if (!stack.empty()) stack.pop_back();
        Held returned_to{*change.version_id, change.variant};
        if (stack.empty() || stack.back() != returned_to) stack.push_back(std::move(returned_to));
        break;
      }
      case TargetChange::Kind::remove:
        if (!stack.empty()) stack.pop_back();
        break;
    }
  }
  return stack;
}

}  // namespace

std::optional<detail::Placement> detail::version_to_roll_back_to(const Catalog& catalog,
                                                                 int64_t model_id,
                                                                 const std::string& target,
                                                                 std::optional<int64_t> leaving) {
  const auto current = catalog.deployed_on(model_id, target);
  std::vector<Held> stack = held_versions(catalog.target_log(model_id, target));
  std::optional<Held> now;
  if (current) now = Held{current->id, variant_on(*current, target)};
  if (now && (stack.empty() || stack.back() != *now)) stack.push_back(*now);
  if (now) stack.pop_back();  // what it holds now is not a candidate

  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    if ((now && *it == *now) || it->first == leaving) continue;
    VersionRecord candidate = catalog.version_by_id(it->first);
    if (candidate.state != State::retired) return Placement{std::move(candidate), it->second};
  }
  return std::nullopt;
}

DeployOutcome rollback_target(const Session& session, const RollbackOptions& options) {
  check_name(options.model, "model name");
  check_name(options.target, "target");
  Catalog catalog(session.home, Catalog::Mode::existing);

  Catalog::Transaction transaction(catalog);
  std::optional<Deployer::Swap> swap;  // after the transaction: undone first

  const auto model_id = catalog.model_id(options.model);
  if (!model_id) throw Error(ErrorKind::not_found, "no model named '" + options.model + "'");
  const auto current = catalog.deployed_on(*model_id, options.target);
  const std::optional<detail::Placement> earlier =
      detail::version_to_roll_back_to(catalog, *model_id, options.target);
  if (!earlier) {
    throw Error(ErrorKind::refused,
                fmt::format("cannot roll back {} on {}: the target held no earlier version that is "
                            "not retired{}",
                            options.model, options.target,
                            current ? fmt::format(" (it holds {}:{})", options.model, current->version)
                                    : std::string(" (it holds none)")));
  }
  std::string reason = fmt::format(
      "rolled back on {} from {} to {}", options.target,
      current ? detail::subject(detail::Placement{*current, detail::variant_on(*current, options.target)})
              : std::string("nothing"),
      detail::subject(*earlier));
  if (!options.reason.empty()) reason += ": " + options.reason;
  DeployOutcome outcome = detail::place_on_target(session, catalog, *earlier, options.target, reason,
                                                  TargetChange::Kind::rollback, swap);
  transaction.commit();
  if (swap) swap->commit();
  return outcome;
}

}  // namespace mlc
