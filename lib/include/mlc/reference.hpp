// References to model versions, as users type them: NAME:VERSION, NAME (the latest version) or
// NAME@TARGET (the version deployed to TARGET).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mlc {

struct Reference {
  enum class Kind { latest, version, target };
  Kind kind = Kind::latest;
  std::string model;
  int64_t version = 0;  // Kind::version only
  std::string target;   // Kind::target only
  std::string text;     // as the user wrote it, for messages
};

// Throws Error(usage) naming the reference and what is wrong with it.
Reference parse_reference(std::string_view text);

// Model, target and alias names: 1-128 characters of [A-Za-z0-9._-], not starting with '.', so
// that a name is always a safe single path component and never one of mlc's own bookkeeping
// names beside it (".NAME.new-X", ".NAME.removed-X": see Deployer::leftovers). `what`
// ("model name", "target") prefixes the message. Throws Error(invalid_input).
void check_name(std::string_view name, std::string_view what);

}  // namespace mlc
