#include <fmt/format.h>

#include "common.hpp"
#include "mlc/error.hpp"

namespace mlc {

EditOutcome edit_version(const Session& session, const EditOptions& options) {
  if (!options.description && options.set_tags.empty() && options.remove_tags.empty()) {
    throw Error(ErrorKind::usage, "edit: nothing to change: give --description, --tag or --untag");
  }
  for (const auto& key : options.remove_tags) {
    if (options.set_tags.count(key) != 0) {
      throw Error(ErrorKind::usage, "edit: tag '" + key + "' is both set (--tag) and removed (--untag)");
    }
  }
  Catalog catalog(session.home, Catalog::Mode::existing);
  return catalog.in_transaction([&] {
    const VersionRecord version = catalog.resolve(options.ref);
    std::optional<std::string> description;
    if (options.description && *options.description != version.description) description = options.description;
    std::map<std::string, std::string> set_tags;
    for (const auto& [key, value] : options.set_tags) {
      const auto found = version.tags.find(key);
      if (found == version.tags.end() || found->second != value) set_tags[key] = value;
    }
    for (const auto& key : options.remove_tags) {
      if (version.tags.count(key) == 0) {
        throw Error(ErrorKind::not_found,
                    fmt::format("{} has no tag '{}'", detail::subject(version), key));
      }
    }
    EditOutcome outcome;
    outcome.changes = {{"tags_set", set_tags}, {"tags_removed", options.remove_tags}};
    if (description) outcome.changes["description"] = {{"from", version.description}, {"to", *description}};
    outcome.changed = description || !set_tags.empty() || !options.remove_tags.empty();
    if (outcome.changed) {
      catalog.edit_metadata(version, description, set_tags, options.remove_tags,
                            detail::note_for(session, options.reason.empty() ? "metadata edited" : options.reason));
    }
    outcome.version = catalog.version_by_id(version.id);
    return outcome;
  });
}

}  // namespace mlc
