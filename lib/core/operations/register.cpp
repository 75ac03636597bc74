#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.hpp"
#include "mlc/error.hpp"
#include "mlc/text.hpp"

namespace mlc {

std::pair<std::string, std::string> parse_tag(const std::string& text) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw Error(ErrorKind::usage, "--tag '" + text + "': expected KEY=VALUE");
  }
  check_text(text, "--tag '" + shortened(text, 40) + "'");
  return {text.substr(0, equals), text.substr(equals + 1)};
}

namespace {

// What registering `version` again with `options` would change: its description (when one is
// given) and the tags given with other values. Empty when nothing.
std::vector<std::string> would_change(const VersionRecord& version, const RegisterOptions& options) {
  std::vector<std::string> changes;
  if (!options.description.empty() && options.description != version.description) {
    changes.push_back("its description");
  }
  for (const auto& [key, value] : options.tags) {
    const auto held = version.tags.find(key);
    if (held == version.tags.end() || held->second != value) changes.push_back("tag '" + key + "'");
  }
  return changes;
}

}  // namespace

RegisterOutcome register_version(const Session& session, const RegisterOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  return catalog.in_transaction([&] {
    VersionRecord version = catalog.resolve(options.ref);
    const State next = next_state(Action::register_model, version.state, detail::subject(version));
    if (next == version.state) {  // registered already: nothing to record
      const auto changes = would_change(version, options);
      if (!changes.empty()) {
        throw Error(ErrorKind::refused,
                    fmt::format("{} is already registered; register would change {}: use mlc edit "
                                "to change a registered version's description or tags",
                                detail::subject(version), fmt::join(changes, ", ")));
      }
      return RegisterOutcome{std::move(version), false};
    }
    catalog.set_registration(version.id, options.description, options.tags);
    catalog.record_transition(version, next, detail::note_for(session, "registered"));
    version.state = next;
    version.description = options.description;
    for (const auto& [key, value] : options.tags) version.tags[key] = value;
    return RegisterOutcome{std::move(version), true};
  });
}

}  // namespace mlc
