// validate_json (lib/core/json_schema.cpp) against the official JSON-Schema-Test-Suite, as Debian's
// json-schema-test-suite package ships it (MLC_JSON_SCHEMA_TEST_SUITE, set by CMake).
//
// The package has drafts 3 to 7; mlc implements 2020-12. Its supported keywords mean the same in
// draft 7 but for two things:
//  - draft 7's "definitions" is 2020-12's "$defs": schemas are read with it renamed (only ref.json
//    uses it among the files run);
//  - draft 7 ignores the keywords beside a "$ref", 2020-12 applies them: that group is skipped.
// Every file of the draft is either run (kRunFiles) or listed in kFilesNotRun with the reason; in a
// file that runs, every group of cases runs but those in kSkippedGroups, again with the reason. A
// listed file or group that the suite does not have fails the test, so the lists cannot go stale.
// All 205 cases that run pass (checked against json_schema.cpp as of this file's commit).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kDraftDir = fs::path(MLC_JSON_SCHEMA_TEST_SUITE) / "tests" / "draft7";

// The keywords json_schema.hpp lists as supported, one file each, and the optional files that use
// only those.
const std::vector<std::string> kRunFiles = {
    "additionalProperties.json", "anyOf.json",     "boolean_schema.json",
    "const.json",                "default.json",   "enum.json",
    "exclusiveMaximum.json",     "exclusiveMinimum.json",
    "items.json",                "maxItems.json",  "maximum.json",
    "minItems.json",             "minLength.json", "minimum.json",
    "oneOf.json",                "pattern.json",   "properties.json",
    "ref.json",                  "required.json",  "type.json",
    "optional/bignum.json",      "optional/zeroTerminatedFloats.json"};

const std::string kUnsupported = "a keyword the validator does not support";

const std::map<std::string, std::string> kFilesNotRun = {
    {"additionalItems.json", kUnsupported},
    {"allOf.json", kUnsupported},
    {"contains.json", kUnsupported},
    {"definitions.json", "validates against the remote draft 7 meta-schema"},
    {"dependencies.json", kUnsupported},
    {"if-then-else.json", kUnsupported},
    {"maxLength.json", kUnsupported},
    {"maxProperties.json", kUnsupported},
    {"minProperties.json", kUnsupported},
    {"multipleOf.json", kUnsupported},
    {"not.json", kUnsupported},
    {"patternProperties.json", kUnsupported},
    {"propertyNames.json", kUnsupported},
    {"refRemote.json", "remote references"},
    {"uniqueItems.json", kUnsupported},
    {"optional/content.json", "contentMediaType, contentEncoding: " + kUnsupported},
    {"optional/ecmascript-regex.json", "format: " + kUnsupported},
    {"optional/format", "format: " + kUnsupported},
};

struct Group {
  std::string file;
  std::string description;
};
bool operator<(const Group& a, const Group& b) {
  return std::tie(a.file, a.description) < std::tie(b.file, b.description);
}

const std::map<Group, std::string> kSkippedGroups = {
    {{"additionalProperties.json", "additionalProperties being false does not allow other properties"},
     "patternProperties: " + kUnsupported},
    {{"additionalProperties.json", "non-ASCII pattern with additionalProperties"},
     "patternProperties: " + kUnsupported},
    {{"anyOf.json", "anyOf with base schema"}, "maxLength: " + kUnsupported},
    {{"oneOf.json", "oneOf with base schema"}, "maxLength: " + kUnsupported},
    {{"items.json", "an array of schemas for items"},
     "items as an array is draft 7's tuple form (prefixItems in 2020-12): " + kUnsupported},
    {{"items.json", "items with boolean schemas"},
     "items as an array is draft 7's tuple form (prefixItems in 2020-12): " + kUnsupported},
    {{"properties.json", "properties, patternProperties, additionalProperties interaction"},
     "patternProperties: " + kUnsupported},
    {{"ref.json", "root pointer ref"}, "$ref '#': only '#/$defs/NAME' is supported"},
    {{"ref.json", "relative pointer ref to object"},
     "$ref '#/properties/foo': only '#/$defs/NAME' is supported"},
    {{"ref.json", "relative pointer ref to array"},
     "$ref '#/items/0' and items as an array: not supported"},
    {{"ref.json", "escaped pointer ref"},
     "$ref to '#/tilda~0field' and the like: only '#/$defs/NAME' is supported"},
    {{"ref.json", "ref overrides any sibling keywords"},
     "draft 7 ignores the keywords beside $ref; 2020-12, which mlc implements, applies them"},
    {{"ref.json", "remote ref, containing refs itself"}, "remote references"},
    {{"ref.json", "Recursive references between schemas"},
     "$id and references relative to it: not supported"},
};

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path.string(), " (scripts/install-deps.sh installs it)");
  return json::parse(in);
}

// Draft 7's "definitions" as 2020-12's "$defs", in the keyword and in the references to it.
void rename_definitions(json& schema) {
  if (schema.is_array()) {
    for (auto& item : schema) rename_definitions(item);
  }
  if (!schema.is_object()) return;
  if (auto found = schema.find("definitions"); found != schema.end()) {
    json definitions = std::move(*found);
    schema.erase("definitions");
    schema["$defs"] = std::move(definitions);
  }
  if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
    const std::string old_prefix = "#/definitions/";
    std::string text = ref->get<std::string>();
    if (text.rfind(old_prefix, 0) == 0) *ref = "#/$defs/" + text.substr(old_prefix.size());
  }
  for (auto& [key, value] : schema.items()) rename_definitions(value);
}

// Whether validate_json accepts the instance; a refusal must be Error(invalid_input), anything else
// (Error(internal): an unsupported keyword) propagates and fails the check.
bool accepts(const json& instance, const json& schema) {
  try {
    mlc::validate_json(instance, schema, "suite");
    return true;
  } catch (const mlc::Error& error) {
    if (error.kind() != mlc::ErrorKind::invalid_input) throw;
    return false;
  }
}

std::set<std::string> draft_files() {
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(kDraftDir)) {
    if (entry.path().filename() != "optional") files.insert(entry.path().filename().string());
  }
  for (const auto& entry : fs::directory_iterator(kDraftDir / "optional")) {
    files.insert("optional/" + entry.path().filename().string());
  }
  return files;
}

}  // namespace

TEST_CASE("JSON-Schema-Test-Suite: every draft 7 file is run or listed with a reason") {
  REQUIRE_MESSAGE(fs::is_directory(kDraftDir), kDraftDir.string(),
                  " is missing (scripts/install-deps.sh installs json-schema-test-suite)");
  const std::set<std::string> files = draft_files();
  for (const auto& file : files) {
    const bool runs = std::count(kRunFiles.begin(), kRunFiles.end(), file) == 1;
    CHECK_MESSAGE(runs != (kFilesNotRun.count(file) == 1),
                  file, ": must be either run or listed as not run, not both or neither");
  }
  for (const auto& file : kRunFiles) CHECK_MESSAGE(files.count(file) == 1, "no such file ", file);
  // Not a structured binding: doctest's messages capture it in a lambda, which C++17 forbids.
  for (const auto& listed : kFilesNotRun) {
    CHECK_MESSAGE(files.count(listed.first) == 1, "no such file ", listed.first);
  }
}

TEST_CASE("JSON-Schema-Test-Suite: validate_json agrees with draft 7 on the supported keywords") {
  std::set<Group> groups_seen;
  int cases_run = 0;
  for (const auto& file : kRunFiles) {
    for (const json& group : read_json(kDraftDir / file)) {
      const Group id{file, group.at("description").get<std::string>()};
      groups_seen.insert(id);
      if (kSkippedGroups.count(id)) continue;
      json schema = group.at("schema");
      rename_definitions(schema);
      for (const json& test : group.at("tests")) {
        INFO(file, ": ", id.description, ": ", test.at("description").get<std::string>());
        INFO("schema ", schema.dump(), ", instance ", test.at("data").dump());
        CHECK(accepts(test.at("data"), schema) == test.at("valid").get<bool>());
        ++cases_run;
      }
    }
  }
  for (const auto& skipped : kSkippedGroups) {
    const Group& group = skipped.first;
    CHECK_MESSAGE(groups_seen.count(group) == 1, "kSkippedGroups: no group '", group.description,
                  "' in ", group.file);
  }
  MESSAGE(cases_run, " cases run, ", kSkippedGroups.size(), " groups skipped");
}
