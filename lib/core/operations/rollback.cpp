#include <algorithm>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {
namespace {

// What the target held, oldest at the bottom, as its log tells it: a deploy pushes the version,
// a rollback pops the one it replaced (the one below is what it returned to), a remove (retire
// --force) pops the retired one. Walking down this stack is what makes rollback repeatable.
std::vector<int64_t> held_versions(const std::vector<TargetChange>& log) {
  std::vector<int64_t> stack;
  for (const auto& change : log) {
    switch (change.kind) {
      case TargetChange::Kind::deploy:
        stack.push_back(*change.version_id);
        break;
      case TargetChange::Kind::rollback:
        if (!stack.empty()) stack.pop_back();
        if (stack.empty() || stack.back() != *change.version_id) stack.push_back(*change.version_id);
        break;
      case TargetChange::Kind::remove:
        if (!stack.empty()) stack.pop_back();
        break;
    }
  }
  return stack;
}

}  // namespace

std::optional<VersionRecord> detail::version_to_roll_back_to(const Catalog& catalog, int64_t model_id,
                                                             const std::string& target) {
  const auto current = catalog.deployed_on(model_id, target);
  std::vector<int64_t> stack = held_versions(catalog.target_log(model_id, target));
  if (current && (stack.empty() || stack.back() != current->id)) stack.push_back(current->id);
  if (current) stack.pop_back();  // what it holds now is not a candidate

  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    if (current && *it == current->id) continue;
    VersionRecord candidate = catalog.version_by_id(*it);
    if (candidate.state != State::retired) return candidate;
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
  const std::optional<VersionRecord> earlier =
      detail::version_to_roll_back_to(catalog, *model_id, options.target);
  if (!earlier) {
    throw Error(ErrorKind::refused,
                fmt::format("cannot roll back {} on {}: the target held no earlier version that is "
                            "not retired{}",
                            options.model, options.target,
                            current ? fmt::format(" (it holds {}:{})", options.model, current->version)
                                    : std::string(" (it holds none)")));
  }
  std::string reason = fmt::format("rolled back on {} from {} to {}", options.target,
                                   current ? detail::subject(*current) : std::string("nothing"),
                                   detail::subject(*earlier));
  if (!options.reason.empty()) reason += ": " + options.reason;
  DeployOutcome outcome = detail::place_on_target(session, catalog, *earlier, options.target, reason,
                                                  TargetChange::Kind::rollback, swap);
  transaction.commit();
  if (swap) swap->commit();
  return outcome;
}

}  // namespace mlc
