// The one strict reader for JSON that comes from users: the train config and its --set values,
// MLC_HOME/policy.json, the --manifest of register --artifact.
//
// nlohmann's own parser keeps the last of two equal keys (a second "targets" silently replaced
// every rule of a policy), builds documents of any depth (whose recursive printing, checking and
// destruction then overflow the stack) and turns integers too large for 64 bits into floats.
// Here each of those is refused, and a file is read only up to a size limit, so that /dev/zero
// or a huge file given as a config is refused instead of read forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mlc {

// The most bytes a JSON file may have, unless $MLC_MAX_JSON_BYTES says otherwise.
constexpr uint64_t kDefaultMaxJsonBytes = uint64_t{16} << 20;  // 16 MiB

// The deepest nesting of arrays and objects accepted: the document itself is level 1. mlc's own
// documents need fewer than 10; recursion over 64 levels is far from any stack limit.
constexpr size_t kMaxJsonDepth = 64;

// $MLC_MAX_JSON_BYTES (a positive number of bytes) if set, else kDefaultMaxJsonBytes. Throws
// Error(invalid_input) naming the variable if it is set to anything else.
uint64_t max_json_bytes();

// The bytes of `file`, which may be a regular file, a pipe or FIFO, or a device, read to its end
// but never beyond max_json_bytes(). Throws Error:
//   not_found      "cannot read FILE: REASON" (missing, unreadable, a directory)
//   invalid_input  "FILE: larger than N bytes (the limit for JSON input; MLC_MAX_JSON_BYTES
//                  raises it)"
std::string read_json_text(const std::filesystem::path& file);

// Parses `text` as one JSON document. `origin` names it at the start of each message (a file
// name, "--set 'KEY=VALUE'"). Throws Error(invalid_input):
//   "ORIGIN:LINE:COLUMN: invalid JSON: REASON"  (column in characters, not bytes)
//   "ORIGIN: KEY.PATH: duplicate key \"KEY\""
//   "ORIGIN: KEY.PATH: nested deeper than 64 levels of arrays and objects"
//   "ORIGIN: KEY.PATH: integer 123456789012345678901 is out of range (at most 64 bits)"
// KEY.PATH is dotted with [i] for array items, as validate_json writes it; long keys are cut
// short. Never recurses deeper than kMaxJsonDepth, whatever the input.
nlohmann::json parse_json(std::string_view text, const std::string& origin);

// parse_json(read_json_text(file), file.string()).
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace mlc
