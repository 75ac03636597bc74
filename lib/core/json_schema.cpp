#include "mlc/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/json_input.hpp"
#include "mlc/suggest.hpp"

namespace mlc {
namespace {

using nlohmann::json;

const std::set<std::string> kAnnotationKeywords = {"$schema", "$id",      "title",   "description",
                                                   "default", "examples", "$comment"};

// Supported keywords whose value is not a schema, so the keyword check has nothing to walk into.
const std::set<std::string> kValueKeywords = {
    "type",      "enum",    "const",   "required",         "minItems",
    "maxItems",  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern"};

const std::map<std::string, std::string> kTypeNouns = {
    {"string", "a string"},   {"integer", "an integer"}, {"number", "a number"},
    {"boolean", "a boolean"}, {"object", "an object"},   {"array", "an array"},
    {"null", "null"}};

// Numeric bounds in the order messages list them: "a number >= 0 and < 1".
const std::pair<const char*, const char*> kBounds[] = {
    {"minimum", ">="}, {"exclusiveMinimum", ">"}, {"maximum", "<="}, {"exclusiveMaximum", "<"}};

const std::string kDefsPrefix = "#/$defs/";

// libstdc++'s std::regex matches by recursion, about one level per character under a loop such
// as [A-Za-z0-9_]*: a 30,000-character string overflowed the 8 MiB stack. Measured safe at
// 2,000 characters under a 1 MiB stack; mlc's schemas bound every patterned string below this
// with maxLength, so only other schemas ever meet the limit.
constexpr size_t kMaxPatternSubjectChars = 1000;

// Every int64, uint64 and double converts to long double exactly (a 64-bit significand on x86-64,
// 113 bits on aarch64), so bounds compare exactly: 2^63 is above a maximum of 2^63 - 1, which the
// two doubles cannot tell apart.
static_assert(std::numeric_limits<long double>::digits >= 64);

// One problem found: where in the instance ("" for the root) and what is wrong there.
struct Failure {
  std::string path;
  std::string reason;
  bool operator==(const Failure& other) const {
    return path == other.path && reason == other.reason;
  }
};
using Outcome = std::optional<Failure>;

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : separator) + part;
  return joined;
}

// A value as messages quote it: JSON, cut short so that a big object stays a short line.
std::string quoted(const json& value) {
  constexpr size_t kMaxBytes = 40;
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= kMaxBytes) return text;
  size_t cut = kMaxBytes;
  // Back up to the start of a character rather than cut a UTF-8 sequence in two.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

size_t utf8_length(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; });
}

std::vector<std::string> schema_types(const json& schema) {
  auto type = schema.find("type");
  if (type == schema.end()) return {};
  if (type->is_string()) return {type->get<std::string>()};
  return type->get<std::vector<std::string>>();
}

bool has_type(const json& instance, const std::string& type) {
  if (type == "integer") {
    // As the standard says, 5.0 is an integer. Its range is for "minimum" and "maximum" to
    // bound: every integer in mlc's schemas has both, within what the compute side reads it as.
    return instance.is_number_integer() ||
           (instance.is_number_float() && std::isfinite(instance.get<double>()) &&
            std::floor(instance.get<double>()) == instance.get<double>());
  }
  if (type == "number") return instance.is_number();
  if (type == "string") return instance.is_string();
  if (type == "boolean") return instance.is_boolean();
  if (type == "object") return instance.is_object();
  if (type == "array") return instance.is_array();
  return instance.is_null();  // the keyword check admits only the names in kTypeNouns
}

// What a schema asks of a value, as messages say it: "an integer >= 1", "a number >= 0 and < 1",
// "a string of at least 1 character". Type and limits together, so that a wrong type and a value
// out of range get the same explanation.
std::string expectation(const json& schema) {
  std::vector<std::string> nouns;
  for (const auto& type : schema_types(schema)) nouns.push_back(kTypeNouns.at(type));
  std::string text = join(nouns, " or ");
  std::vector<std::string> limits;
  for (const auto& [keyword, relation] : kBounds) {
    if (schema.contains(keyword)) {
      limits.push_back(fmt::format("{} {}", relation, schema[keyword].dump()));
    }
  }
  if (!limits.empty()) text = (text.empty() ? "a number" : text) + " " + join(limits, " and ");
  auto min_length = schema.find("minLength");
  auto max_length = schema.find("maxLength");
  auto characters = [](size_t count) {
    return fmt::format("{} character{}", count, count == 1 ? "" : "s");
  };
  std::string length;
  if (min_length != schema.end() && max_length != schema.end()) {
    length = fmt::format("of {} to {}", min_length->get<size_t>(),
                         characters(max_length->get<size_t>()));
  } else if (min_length != schema.end()) {
    length = "of at least " + characters(min_length->get<size_t>());
  } else if (max_length != schema.end()) {
    length = "of at most " + characters(max_length->get<size_t>());
  }
  if (!length.empty()) text = fmt::format("{} {}", text.empty() ? "a string" : text, length);
  return text;
}

long double exact_value(const json& number) {
  if (number.is_number_unsigned()) return number.get<uint64_t>();
  if (number.is_number_integer()) return number.get<int64_t>();
  return number.get<double>();
}

bool within_bounds(const json& instance, const json& schema) {
  const long double value = exact_value(instance);
  auto bound = [&](const char* keyword, auto holds) {
    auto limit = schema.find(keyword);
    return limit == schema.end() || holds(value, exact_value(*limit));
  };
  return bound("minimum", std::greater_equal<long double>()) &&
         bound("exclusiveMinimum", std::greater<long double>()) &&
         bound("maximum", std::less_equal<long double>()) &&
         bound("exclusiveMaximum", std::less<long double>());
}

// Abbreviations edit distance cannot find ("lr" is 11 edits from "learning_rate"), offered when
// the full name is a property at that place.
const std::map<std::string, std::string> kKeyAbbreviations = {
    {"lr", "learning_rate"}, {"bs", "batch_size"}, {"wd", "weight_decay"}};

// "; did you mean 'learning_rate'?" for an unknown key, from the keys the schema declares there;
// "" when none is close (suggest.hpp).
std::string suggestion_for(const std::string& key, const json::const_iterator& properties,
                           const json& schema) {
  if (properties == schema.end()) return "";
  std::vector<std::string> names;
  for (const auto& [name, property] : properties->items()) names.push_back(name);
  if (auto full = kKeyAbbreviations.find(key);
      full != kKeyAbbreviations.end() && properties->contains(full->second)) {
    return "; did you mean '" + full->second + "'?";
  }
  return did_you_mean(key, names);
}

std::string plural_items(size_t count) {
  return fmt::format("{} item{}", count, count == 1 ? "" : "s");
}

// Validation against one root schema, which $ref resolves into.
class Checker {
 public:
  explicit Checker(const json& root) : root_(root) {}

  void require_supported(const json& schema) const;
  Outcome check(const json& instance, const json& schema, const std::string& path) const;
  void fill_defaults(json& instance, const json& schema) const;

 private:
  const json& resolve_ref(const json& ref) const;
  const json* find_keyword(const json& schema, const char* keyword) const;
  std::map<std::string, json> const_properties(const json& schema) const;
  std::vector<size_t> selected_branches(const json& instance, const json& branches) const;
  std::optional<std::string> discriminator(const json& branches) const;

  Outcome check_object(const json& instance, const json& schema, const std::string& path) const;
  Outcome check_array(const json& instance, const json& schema, const std::string& path) const;
  Outcome check_string(const json& instance, const json& schema, const std::string& path) const;
  Outcome check_branches(const json& instance, const json& schema, const char* keyword,
                         const std::string& path) const;
  Failure explain_no_match(const json& instance, const json& branches,
                           const std::vector<Failure>& failures, const std::string& path) const;

  const json& root_;
};

const json& Checker::resolve_ref(const json& ref) const {
  const auto& text = ref.get_ref<const std::string&>();
  if (text.rfind(kDefsPrefix, 0) == 0) {
    auto defs = root_.find("$defs");
    std::string name = text.substr(kDefsPrefix.size());
    if (defs != root_.end() && defs->contains(name)) return (*defs)[name];
  }
  throw Error(ErrorKind::internal,
              fmt::format("unsupported JSON Schema $ref '{}': only '#/$defs/NAME' of the same "
                          "schema is supported",
                          text));
}

void Checker::require_supported(const json& schema) const {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) {
    throw Error(ErrorKind::internal,
                fmt::format("malformed JSON Schema: {} is not a schema", quoted(schema)));
  }
  for (const auto& [keyword, value] : schema.items()) {
    if (kAnnotationKeywords.count(keyword) || kValueKeywords.count(keyword)) {
      if (keyword == "type") {
        for (const auto& type : schema_types(schema)) {
          if (!kTypeNouns.count(type)) {
            throw Error(ErrorKind::internal, fmt::format("unknown JSON Schema type '{}'", type));
          }
        }
      }
    } else if (keyword == "properties" || keyword == "$defs") {
      for (const auto& child : value) require_supported(child);
    } else if (keyword == "oneOf" || keyword == "anyOf") {
      for (const auto& branch : value) require_supported(branch);
    } else if (keyword == "items" || keyword == "additionalProperties") {
      require_supported(value);
    } else if (keyword == "$ref") {
      resolve_ref(value);
    } else {
      throw Error(ErrorKind::internal,
                  fmt::format("unsupported JSON Schema keyword '{}'", keyword));
    }
  }
}

Outcome Checker::check(const json& instance, const json& schema, const std::string& path) const {
  if (schema.is_boolean()) {
    return schema.get<bool>() ? Outcome() : Failure{path, "is not allowed here"};
  }
  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    if (auto failure = check(instance, resolve_ref(*ref), path)) return failure;
  }
  // enum and const first: "must be one of "adam", "sgd"" says more than "must be a string".
  if (auto allowed = schema.find("enum"); allowed != schema.end()) {
    if (std::find(allowed->begin(), allowed->end(), instance) == allowed->end()) {
      std::vector<std::string> choices;
      for (const auto& choice : *allowed) choices.push_back(quoted(choice));
      return Failure{
          path, fmt::format("must be one of {}, got {}", join(choices, ", "), quoted(instance))};
    }
  }
  if (auto constant = schema.find("const"); constant != schema.end() && *constant != instance) {
    return Failure{path, fmt::format("must be {}, got {}", quoted(*constant), quoted(instance))};
  }
  auto types = schema_types(schema);
  if (!types.empty() && std::none_of(types.begin(), types.end(),
                                     [&](const auto& type) { return has_type(instance, type); })) {
    return Failure{path, fmt::format("must be {}, got {}", expectation(schema), quoted(instance))};
  }
  Outcome failure;
  if (instance.is_object()) failure = check_object(instance, schema, path);
  if (instance.is_array()) failure = check_array(instance, schema, path);
  if (instance.is_string()) failure = check_string(instance, schema, path);
  if (instance.is_number() && !within_bounds(instance, schema)) {
    failure =
        Failure{path, fmt::format("must be {}, got {}", expectation(schema), quoted(instance))};
  }
  if (!failure) failure = check_branches(instance, schema, "oneOf", path);
  if (!failure) failure = check_branches(instance, schema, "anyOf", path);
  return failure;
}

Outcome Checker::check_object(const json& instance, const json& schema,
                              const std::string& path) const {
  auto properties = schema.find("properties");
  auto additional = schema.find("additionalProperties");
  // Unknown keys first: a misspelt key is also a missing one, and its own name is the better clue.
  for (const auto& [key, value] : instance.items()) {
    bool declared = properties != schema.end() && properties->contains(key);
    if (declared || additional == schema.end()) continue;
    if (additional->is_boolean()) {
      if (!additional->get<bool>()) {
        return Failure{path, fmt::format("unknown key '{}'{}", key, suggestion_for(key, properties, schema))};
      }
    } else if (auto failure = check(value, *additional, child_path(path, key))) {
      return failure;
    }
  }
  if (auto required = schema.find("required"); required != schema.end()) {
    for (const auto& key : *required) {
      const auto& name = key.get_ref<const std::string&>();
      if (!instance.contains(name)) {
        return Failure{path, fmt::format("missing required key '{}'", name)};
      }
    }
  }
  if (properties == schema.end()) return std::nullopt;
  for (const auto& [key, property] : properties->items()) {
    auto value = instance.find(key);
    if (value == instance.end()) continue;
    if (auto failure = check(*value, property, child_path(path, key))) return failure;
  }
  return std::nullopt;
}

Outcome Checker::check_array(const json& instance, const json& schema,
                             const std::string& path) const {
  if (auto min = schema.find("minItems");
      min != schema.end() && instance.size() < min->get<size_t>()) {
    return Failure{path, fmt::format("must have at least {}, got {}",
                                     plural_items(min->get<size_t>()), instance.size())};
  }
  if (auto max = schema.find("maxItems");
      max != schema.end() && instance.size() > max->get<size_t>()) {
    return Failure{path, fmt::format("must have at most {}, got {}",
                                     plural_items(max->get<size_t>()), instance.size())};
  }
  auto items = schema.find("items");
  if (items == schema.end()) return std::nullopt;
  for (size_t index = 0; index < instance.size(); ++index) {
    if (auto failure = check(instance[index], *items, fmt::format("{}[{}]", path, index))) {
      return failure;
    }
  }
  return std::nullopt;
}

Outcome Checker::check_string(const json& instance, const json& schema,
                              const std::string& path) const {
  const auto& text = instance.get_ref<const std::string&>();
  const size_t length = utf8_length(text);
  auto min_length = schema.find("minLength");
  auto max_length = schema.find("maxLength");
  if ((min_length != schema.end() && length < min_length->get<size_t>()) ||
      (max_length != schema.end() && length > max_length->get<size_t>())) {
    return Failure{path, fmt::format("must be {}, got {}", expectation(schema), quoted(instance))};
  }
  if (auto pattern = schema.find("pattern"); pattern != schema.end()) {
    const auto& source = pattern->get_ref<const std::string&>();
    if (length > kMaxPatternSubjectChars) {
      return Failure{path, fmt::format("is longer than the {} characters a pattern is checked on, "
                                       "got {}",
                                       kMaxPatternSubjectChars, quoted(instance))};
    }
    if (!std::regex_search(text, std::regex(source, std::regex::ECMAScript))) {
      return Failure{path,
                     fmt::format("must match the pattern '{}', got {}", source, quoted(instance))};
    }
  }
  return std::nullopt;
}

Outcome Checker::check_branches(const json& instance, const json& schema, const char* keyword,
                                const std::string& path) const {
  auto branches = schema.find(keyword);
  if (branches == schema.end()) return std::nullopt;
  std::vector<Failure> failures;
  for (const auto& branch : *branches) {
    if (auto failure = check(instance, branch, path)) failures.push_back(*failure);
  }
  size_t matches = branches->size() - failures.size();
  if (matches == 0) return explain_no_match(instance, *branches, failures, path);
  if (matches > 1 && std::string(keyword) == "oneOf") {
    return Failure{path,
                   fmt::format("must match exactly one of the allowed forms, matches {}", matches)};
  }
  return std::nullopt;
}

// Rather than "matches none", says what the user most likely meant: the branch that their
// discriminator value (a const property such as "format": "csv") selects, or else what the
// discriminator may be.
Failure Checker::explain_no_match(const json& instance, const json& branches,
                                  const std::vector<Failure>& failures,
                                  const std::string& path) const {
  if (instance.is_object()) {
    auto selected = selected_branches(instance, branches);
    if (selected.size() == 1) return failures[selected.front()];
    if (auto key = discriminator(branches)) {
      if (!instance.contains(*key)) {
        return Failure{path, fmt::format("missing required key '{}'", *key)};
      }
      std::vector<std::string> choices;
      for (const auto& branch : branches) {
        choices.push_back(quoted(const_properties(branch).at(*key)));
      }
      return Failure{
          child_path(path, *key),
          fmt::format("must be one of {}, got {}", join(choices, ", "), quoted(instance[*key]))};
    }
  }
  if (std::all_of(failures.begin(), failures.end(),
                  [&](const auto& f) { return f == failures.front(); })) {
    return failures.front();  // e.g. every branch wants an object
  }
  return Failure{path,
                 fmt::format("must match one of the allowed forms, got {}", quoted(instance))};
}

// The keyword's value in the schema itself, else in what its $ref points to; nullptr if neither.
const json* Checker::find_keyword(const json& schema, const char* keyword) const {
  if (!schema.is_object()) return nullptr;
  if (auto found = schema.find(keyword); found != schema.end()) return &*found;
  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    return find_keyword(resolve_ref(*ref), keyword);
  }
  return nullptr;
}

std::map<std::string, json> Checker::const_properties(const json& schema) const {
  std::map<std::string, json> constants;
  const json* properties = find_keyword(schema, "properties");
  if (properties == nullptr) return constants;
  for (const auto& [key, property] : properties->items()) {
    if (const json* constant = find_keyword(property, "const")) constants.emplace(key, *constant);
  }
  return constants;
}

// The branches that declare const properties and whose every const property the instance has.
std::vector<size_t> Checker::selected_branches(const json& instance, const json& branches) const {
  std::vector<size_t> selected;
  for (size_t index = 0; index < branches.size(); ++index) {
    auto constants = const_properties(branches[index]);
    bool all_match =
        !constants.empty() &&
        std::all_of(constants.begin(), constants.end(), [&](const auto& constant) {
          return instance.contains(constant.first) && instance[constant.first] == constant.second;
        });
    if (all_match) selected.push_back(index);
  }
  return selected;
}

// A property that every branch declares const, such as "format"; nullopt if there is none.
std::optional<std::string> Checker::discriminator(const json& branches) const {
  if (branches.empty()) return std::nullopt;
  for (const auto& candidate : const_properties(branches[0])) {
    bool in_every_branch = std::all_of(branches.begin(), branches.end(), [&](const json& branch) {
      return const_properties(branch).count(candidate.first) == 1;
    });
    if (in_every_branch) return candidate.first;
  }
  return std::nullopt;
}

void Checker::fill_defaults(json& instance, const json& schema) const {
  if (!schema.is_object()) return;
  if (instance.is_array()) {
    if (const json* items = find_keyword(schema, "items")) {
      for (auto& item : instance) fill_defaults(item, *items);
    }
    return;
  }
  if (!instance.is_object()) return;
  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    fill_defaults(instance, resolve_ref(*ref));
  }
  if (auto properties = schema.find("properties"); properties != schema.end()) {
    for (const auto& [key, property] : properties->items()) {
      if (instance.contains(key)) {
        fill_defaults(instance[key], property);
      } else if (const json* value = find_keyword(property, "default")) {
        instance[key] = *value;
      }
    }
  }
  for (const char* keyword : {"oneOf", "anyOf"}) {
    auto branches = schema.find(keyword);
    if (branches == schema.end()) continue;
    auto selected = selected_branches(instance, *branches);
    if (selected.size() == 1) fill_defaults(instance, (*branches)[selected.front()]);
  }
}

// nlohmann's type errors and std::regex's errors mean a malformed schema, which is mlc's bug.
template <typename Action>
void translating_schema_errors(Action action) {
  try {
    action();
  } catch (const json::exception& error) {
    throw Error(ErrorKind::internal, fmt::format("malformed JSON Schema: {}", error.what()));
  } catch (const std::regex_error& error) {
    throw Error(ErrorKind::internal,
                fmt::format("malformed JSON Schema pattern: {}", error.what()));
  }
}

}  // namespace

const json& embedded_schema(const std::string& file_name) {
  static std::mutex mutex;
  static std::map<std::string, json> parsed;  // std::map: references stay valid as it grows
  std::lock_guard<std::mutex> lock(mutex);
  if (auto found = parsed.find(file_name); found != parsed.end()) return found->second;
  const std::string* text = embedded_schema_text(file_name);
  if (text == nullptr) {
    throw Error(ErrorKind::internal, fmt::format("no embedded JSON Schema '{}'", file_name));
  }
  // Read as strictly as user input: a duplicate key in a schema would silently drop a rule.
  try {
    return parsed.emplace(file_name, parse_json(*text, file_name)).first->second;
  } catch (const Error& error) {
    throw Error(ErrorKind::internal,
                fmt::format("embedded JSON Schema is not valid: {}", error.what()));
  }
}

void validate_json(const json& instance, const json& schema, const std::string& source) {
  Outcome failure;
  translating_schema_errors([&] {
    Checker checker(schema);
    checker.require_supported(schema);
    failure = checker.check(instance, schema, "");
  });
  if (failure) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: {}: {}", source, failure->path.empty() ? "(root)" : failure->path,
                            failure->reason));
  }
}

void apply_schema_defaults(json& instance, const json& schema) {
  translating_schema_errors([&] { Checker(schema).fill_defaults(instance, schema); });
}

}  // namespace mlc
