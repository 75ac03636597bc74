#include <algorithm>

#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {

AliasOutcome set_alias(const Session& session, const AliasOptions& options) {
  check_name(options.model, "model name");
  check_name(options.alias, "alias");
  Catalog catalog(session.home, Catalog::Mode::existing);
  return catalog.in_transaction([&] {
    const auto model_id = catalog.model_id(options.model);
    if (!model_id) throw Error(ErrorKind::not_found, "no model named '" + options.model + "'");
    AliasOutcome outcome{options.model, options.alias, std::nullopt,
                         catalog.aliased(*model_id, options.alias), true};
    const std::string reason = options.reason;
    if (!options.version) {
      if (!outcome.previous) {
        throw Error(ErrorKind::not_found,
                    fmt::format("model '{}' has no alias '{}'", options.model, options.alias));
      }
      catalog.set_alias(*model_id, options.alias, std::nullopt, outcome.previous,
                        detail::note_for(session, reason.empty() ? "alias " + options.alias + " removed" : reason));
      return outcome;
    }
    const auto targets = catalog.targets_of(*model_id);
    if (std::find(targets.begin(), targets.end(), options.alias) != targets.end()) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("alias '{}': model '{}' has a target of that name; an alias and a "
                              "target of one model cannot share a name",
                              options.alias, options.model));
    }
    VersionRecord version = catalog.resolve(Reference{
        Reference::Kind::version, options.model, *options.version, {},
        fmt::format("{}:{}", options.model, *options.version)});
    if (version.state == State::retired) {
      throw Error(ErrorKind::refused,
                  fmt::format("cannot point alias '{}' at {}: it is retired; a retired version is "
                              "final and can never be used again",
                              options.alias, detail::subject(version)));
    }
    if (outcome.previous && outcome.previous->id == version.id) {
      outcome.version = std::move(version);
      outcome.changed = false;
      return outcome;
    }
    catalog.set_alias(*model_id, options.alias, version, outcome.previous,
                      detail::note_for(session, reason.empty()
                                                    ? fmt::format("alias {} set to {}", options.alias,
                                                                  detail::subject(version))
                                                    : reason));
    outcome.version = catalog.version_by_id(version.id);
    if (outcome.previous) outcome.previous = catalog.version_by_id(outcome.previous->id);
    return outcome;
  });
}

}  // namespace mlc
