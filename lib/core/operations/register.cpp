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

VersionRecord register_version(const Session& session, const RegisterOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  return catalog.in_transaction([&] {
    VersionRecord version = catalog.resolve(options.ref);
    const State next = next_state(Action::register_model, version.state, detail::subject(version));
    catalog.set_registration(version.id, options.description, options.tags);
    catalog.record_transition(version, next, detail::note_for(session, "registered"));
    version.state = next;
    version.description = options.description;
    for (const auto& [key, value] : options.tags) version.tags[key] = value;
    return version;
  });
}

}  // namespace mlc
