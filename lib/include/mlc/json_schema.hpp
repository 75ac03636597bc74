// Checking JSON documents against mlc's JSON Schemas (draft 2020-12), which schemas/*.schema.json
// holds and the build compiles into the library.
//
// Debian 12 packages no C++ JSON Schema validator, so this is a small one for the subset of the
// standard that mlc's schemas use:
//   type (a name or an array of names; "integer" accepts any finite whole number, 5.0 included),
//   enum, const,
//   properties, required, additionalProperties (a boolean or a schema),
//   items (one schema for every item), minItems, maxItems,
//   minimum, maximum, exclusiveMinimum, exclusiveMaximum (compared exactly, also beyond 2^53:
//   2^63 is above a maximum of 2^63 - 1),
//   minLength, maxLength (in UTF-8 characters), pattern (std::regex ECMAScript, unanchored as the
//   standard says; a string longer than 1,000 characters fails a pattern unchecked, since
//   std::regex recurses per character: give patterned strings a maxLength),
//   oneOf, anyOf, $ref (only "#/$defs/NAME", into the same schema), $defs.
// The validator recurses once per level of the instance: give it documents read by parse_json
// (json_input.hpp), which bounds their depth.
// Annotations ($schema, $id, title, description, default, examples, $comment) are allowed and do
// not affect validation. A schema that uses any other keyword is rejected with Error(internal)
// "unsupported JSON Schema keyword 'X'", so that nobody writes a check that would be silently
// ignored.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mlc {

// The text of schemas/FILE_NAME (e.g. "train-config.schema.json") as compiled in, or nullptr if
// there is no such schema. The string lives until the process exits. Defined in the
// embedded_schemas.cpp that lib/CMakeLists.txt generates.
const std::string* embedded_schema_text(const std::string& file_name);

// The parsed embedded schema, parsed on first use (by parse_json, so a duplicate key is an error)
// and kept until the process exits; safe to call from several threads. Throws Error(internal) if
// there is no such schema or it is not valid JSON.
const nlohmann::json& embedded_schema(const std::string& file_name);

// Checks `instance` against `schema` and returns if it conforms. Otherwise throws
// Error(invalid_input) with one line naming the first problem found, "SOURCE: KEY_PATH: REASON":
//   mlp.json: model.hidden_layers[1]: must be an integer >= 1, got -3
//   mlp.json: training: unknown key 'epoch'; did you mean 'epochs'?
// KEY_PATH is dotted, with [i] for array items, and "(root)" for the document itself. Unknown keys
// are reported before missing ones, since a misspelt key is both, with the nearest key declared
// there when one is close (nearest_name in suggest.hpp; "lr", "bs" and "wd" by a list of
// abbreviations, which no edit distance finds). When no branch of a oneOf or
// anyOf matches, the branch that a const property of the instance selects (such as
// "format": "csv") gives the reason, rather than a bare "matches none".
// Throws Error(internal) if the schema uses an unsupported keyword, an unresolvable $ref or is
// malformed (a bug in mlc's schemas, not in the user's input).
void validate_json(const nlohmann::json& instance, const nlohmann::json& schema,
                   const std::string& source);

// Adds the "default" annotation of each property that `schema` declares and `instance` lacks, in
// every object of `instance` that the schema describes, the items of arrays included (each item
// by the "items" schema); a property's $ref is followed for its default. Of a oneOf or anyOf, only the branch that the instance's const properties select
// contributes. Parts of `instance` that do not have the type the schema expects are left alone,
// so it is safe to call before validate_json, which then also checks the defaults. Throws
// Error(internal) for an unresolvable $ref or a malformed schema, as validate_json does.
void apply_schema_defaults(nlohmann::json& instance, const nlohmann::json& schema);

}  // namespace mlc
