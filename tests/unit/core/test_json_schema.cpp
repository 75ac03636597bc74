#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

using nlohmann::json;

namespace {

void validate(const char* instance, const char* schema) {
  mlc::validate_json(json::parse(instance), json::parse(schema), "t.json");
}

mlc::ErrorKind error_kind(const char* instance, const char* schema) {
  try {
    validate(instance, schema);
  } catch (const mlc::Error& error) {
    return error.kind();
  }
  FAIL("no error thrown");
  return mlc::ErrorKind::internal;
}

}  // namespace

TEST_CASE("validate_json: type") {
  CHECK_NOTHROW(validate(R"("x")", R"({"type": "string"})"));
  CHECK_NOTHROW(validate("5", R"({"type": "integer"})"));
  CHECK_NOTHROW(validate("5.0", R"({"type": "integer"})"));
  CHECK_NOTHROW(validate("5.5", R"({"type": "number"})"));
  CHECK_NOTHROW(validate("null", R"({"type": ["string", "null"]})"));
  CHECK_NOTHROW(validate("{}", R"({"type": "object"})"));
  CHECK_NOTHROW(validate("[]", R"({"type": "array"})"));
  CHECK_NOTHROW(validate("false", R"({"type": "boolean"})"));

  SUBCASE("a fraction is not an integer") {
    REQUIRE_THROWS_WITH_AS(validate("5.5", R"({"type": "integer"})"),
                           "t.json: (root): must be an integer, got 5.5", mlc::Error);
  }
  SUBCASE("a number in a string is not a number") {
    REQUIRE_THROWS_WITH_AS(validate(R"("5")", R"({"type": "number"})"),
                           R"(t.json: (root): must be a number, got "5")", mlc::Error);
  }
  SUBCASE("several types are all named") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"type": ["string", "null"]})"),
                           "t.json: (root): must be a string or null, got 5", mlc::Error);
  }
  SUBCASE("a long value is cut short") {
    REQUIRE_THROWS_WITH_AS(
        validate(R"(["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"])",
                 R"({"type": "object"})"),
        R"(t.json: (root): must be an object, got ["aaaaaaaaaa","bbbbbbbbbb","cccccccccc",...)",
        mlc::Error);
  }
  SUBCASE("the kind is invalid_input") {
    CHECK(error_kind("1", R"({"type": "string"})") == mlc::ErrorKind::invalid_input);
  }
}

TEST_CASE("validate_json: enum and const") {
  CHECK_NOTHROW(validate(R"("sgd")", R"({"enum": ["adam", "sgd"]})"));
  CHECK_NOTHROW(validate(R"("idx")", R"({"const": "idx"})"));

  SUBCASE("enum") {
    REQUIRE_THROWS_WITH_AS(validate(R"("adamw")", R"({"enum": ["adam", "sgd"]})"),
                           R"(t.json: (root): must be one of "adam", "sgd", got "adamw")",
                           mlc::Error);
  }
  SUBCASE("const") {
    REQUIRE_THROWS_WITH_AS(validate(R"("csv")", R"({"const": "idx"})"),
                           R"(t.json: (root): must be "idx", got "csv")", mlc::Error);
  }
}

TEST_CASE("validate_json: numeric bounds") {
  const char* fraction = R"({"type": "number", "minimum": 0, "exclusiveMaximum": 1})";
  const char* rate = R"({"type": "number", "exclusiveMinimum": 0, "maximum": 1})";
  CHECK_NOTHROW(validate("0", fraction));
  CHECK_NOTHROW(validate("0.99", fraction));
  CHECK_NOTHROW(validate("1", rate));

  SUBCASE("minimum") {
    REQUIRE_THROWS_WITH_AS(validate("-0.5", fraction),
                           "t.json: (root): must be a number >= 0 and < 1, got -0.5", mlc::Error);
  }
  SUBCASE("exclusiveMaximum") {
    REQUIRE_THROWS_WITH_AS(validate("1", fraction),
                           "t.json: (root): must be a number >= 0 and < 1, got 1", mlc::Error);
  }
  SUBCASE("exclusiveMinimum") {
    REQUIRE_THROWS_WITH_AS(validate("0", rate),
                           "t.json: (root): must be a number > 0 and <= 1, got 0", mlc::Error);
  }
  SUBCASE("maximum") {
    REQUIRE_THROWS_WITH_AS(validate("1.5", rate),
                           "t.json: (root): must be a number > 0 and <= 1, got 1.5", mlc::Error);
  }
  SUBCASE("a wrong type is explained with the bounds") {
    REQUIRE_THROWS_WITH_AS(validate(R"("3")", R"({"type": "integer", "minimum": 1})"),
                           R"(t.json: (root): must be an integer >= 1, got "3")", mlc::Error);
  }
  SUBCASE("bounds ignore other types") { CHECK_NOTHROW(validate(R"("x")", R"({"minimum": 1})")); }
}

TEST_CASE("validate_json: integers beyond what a double tells apart") {
  const char* seed = R"({"type": "integer", "minimum": 0, "maximum": 9223372036854775807})";
  CHECK_NOTHROW(validate("9223372036854775807", seed));
  REQUIRE_THROWS_WITH_AS(validate("9223372036854775808", seed),
                         "t.json: (root): must be an integer >= 0 and <= 9223372036854775807, got "
                         "9223372036854775808",
                         mlc::Error);
  CHECK_NOTHROW(validate("18446744073709551615", R"({"minimum": 18446744073709551615})"));
  CHECK_THROWS(validate("18446744073709551614", R"({"minimum": 18446744073709551615})"));
  CHECK_THROWS(validate("-9223372036854775808", R"({"exclusiveMinimum": -9223372036854775808})"));
  SUBCASE("a float is bounded like the integer it stands for") {
    const char* epochs = R"({"type": "integer", "minimum": 1, "maximum": 1000000})";
    CHECK_NOTHROW(validate("5.0", epochs));
    REQUIRE_THROWS_WITH_AS(validate("1e12", epochs),
                           "t.json: (root): must be an integer >= 1 and <= 1000000, got "
                           "1000000000000.0",
                           mlc::Error);
    CHECK_THROWS(validate("9.3e18", seed));
  }
  SUBCASE("infinity is no integer") {
    CHECK_THROWS(mlc::validate_json(json(HUGE_VAL), json::parse(R"({"type": "integer"})"), "t.json"));
  }
}

TEST_CASE("validate_json: strings") {
  CHECK_NOTHROW(validate(R"("é")", R"({"type": "string", "minLength": 1})"));
  CHECK_NOTHROW(validate(R"("v12")", R"({"type": "string", "pattern": "[0-9]+"})"));

  SUBCASE("minLength") {
    REQUIRE_THROWS_WITH_AS(validate(R"("")", R"({"type": "string", "minLength": 1})"),
                           R"(t.json: (root): must be a string of at least 1 character, got "")",
                           mlc::Error);
  }
  SUBCASE("minLength counts characters, not bytes") {
    REQUIRE_THROWS_WITH_AS(validate(R"("éé")", R"({"type": "string", "minLength": 3})"),
                           R"(t.json: (root): must be a string of at least 3 characters, got "éé")",
                           mlc::Error);
  }
  SUBCASE("pattern") {
    REQUIRE_THROWS_WITH_AS(validate(R"("abc")", R"({"type": "string", "pattern": "^[0-9]+$"})"),
                           R"(t.json: (root): must match the pattern '^[0-9]+$', got "abc")",
                           mlc::Error);
  }
  SUBCASE("maxLength") {
    CHECK_NOTHROW(validate(R"("ééé")", R"({"type": "string", "maxLength": 3})"));
    REQUIRE_THROWS_WITH_AS(validate(R"("abcd")", R"({"type": "string", "maxLength": 3})"),
                           R"(t.json: (root): must be a string of at most 3 characters, got "abcd")",
                           mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        validate(R"("")", R"({"type": "string", "minLength": 1, "maxLength": 3})"),
        R"(t.json: (root): must be a string of 1 to 3 characters, got "")", mlc::Error);
  }
  SUBCASE("a string too long for std::regex is refused, not matched by recursion") {
    // 30,000 characters overflowed the stack inside std::regex_search.
    const json long_name(std::string(30000, 'a') + ">=1");
    const json schema = json::parse(R"({"type": "string", "pattern": "^[a-z]*>=[0-9]$"})");
    CHECK_THROWS_WITH_AS(mlc::validate_json(long_name, schema, "t.json"),
                         doctest::Contains("t.json: (root): is longer than the 1000 characters a "
                                           "pattern is checked on, got \"aaaa"),
                         mlc::Error);
    CHECK_NOTHROW(mlc::validate_json(json(std::string(997, 'a') + ">=1"), schema, "t.json"));
  }
}

TEST_CASE("embedded schemas: every patterned string has a maxLength under the regex limit") {
  for (const char* name : {"train-config.schema.json", "policy.schema.json",
                           "artifact-manifest.schema.json", "model-info.schema.json"}) {
    std::vector<std::pair<const json*, std::string>> pending = {{&mlc::embedded_schema(name), name}};
    while (!pending.empty()) {
      auto [node, where] = pending.back();
      pending.pop_back();
      if (node->is_object() && node->contains("pattern") && (*node)["pattern"].is_string()) {
        CAPTURE(where);
        REQUIRE(node->contains("maxLength"));
        CHECK((*node)["maxLength"].get<size_t>() <= 1000);
      }
      if (node->is_structured()) {
        for (const auto& [key, child] : node->items()) pending.emplace_back(&child, where + "/" + key);
      }
    }
  }
}

TEST_CASE("validate_json: objects") {
  const char* schema = R"({
    "type": "object",
    "properties": {"epochs": {"type": "integer", "minimum": 1}, "seed": {"type": "integer"}},
    "required": ["epochs"],
    "additionalProperties": false
  })";
  CHECK_NOTHROW(validate(R"({"epochs": 3})", schema));
  CHECK_NOTHROW(validate(R"({"epochs": 3, "seed": 1})", schema));

  SUBCASE("required") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"seed": 1})", schema),
                           "t.json: (root): missing required key 'epochs'", mlc::Error);
  }
  SUBCASE("additionalProperties false") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"epochs": 3, "sed": 1})", schema),
                           "t.json: (root): unknown key 'sed'; did you mean 'seed'?", mlc::Error);
  }
  SUBCASE("an unknown key far from every declared one gets no suggestion") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"epochs": 3, "colour": 1})", schema),
                           "t.json: (root): unknown key 'colour'", mlc::Error);
  }
  SUBCASE("a misspelt key is reported as unknown rather than as missing") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"epoch": 3})", schema),
                           "t.json: (root): unknown key 'epoch'; did you mean 'epochs'?", mlc::Error);
  }
  SUBCASE("properties") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"epochs": 0})", schema),
                           "t.json: epochs: must be an integer >= 1, got 0", mlc::Error);
  }
  SUBCASE("additionalProperties as a schema") {
    const char* counts = R"({"type": "object", "additionalProperties": {"type": "integer"}})";
    CHECK_NOTHROW(validate(R"({"a": 1, "b": 2})", counts));
    REQUIRE_THROWS_WITH_AS(validate(R"({"a": 1, "b": "2"})", counts),
                           R"(t.json: b: must be an integer, got "2")", mlc::Error);
  }
  SUBCASE("nested key paths are dotted") {
    const char* nested =
        R"({"properties": {"training": {"properties": {"optimizer": {"required": ["name"]}}}}})";
    REQUIRE_THROWS_WITH_AS(validate(R"({"training": {"optimizer": {}}})", nested),
                           "t.json: training.optimizer: missing required key 'name'", mlc::Error);
  }
}

TEST_CASE("validate_json: arrays") {
  const char* schema = R"({
    "properties": {"model": {"properties": {"hidden_layers": {
      "type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 2}}}}
  })";
  CHECK_NOTHROW(validate(R"({"model": {"hidden_layers": [256, 128]}})", schema));

  SUBCASE("items") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"model": {"hidden_layers": [256, -3]}})", schema),
                           "t.json: model.hidden_layers[1]: must be an integer >= 1, got -3",
                           mlc::Error);
  }
  SUBCASE("minItems") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"model": {"hidden_layers": []}})", schema),
                           "t.json: model.hidden_layers: must have at least 1 item, got 0",
                           mlc::Error);
  }
  SUBCASE("maxItems") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"model": {"hidden_layers": [1, 2, 3]}})", schema),
                           "t.json: model.hidden_layers: must have at most 2 items, got 3",
                           mlc::Error);
  }
  SUBCASE("items at the root") {
    REQUIRE_THROWS_WITH_AS(validate(R"([1, "x"])", R"({"items": {"type": "integer"}})"),
                           R"(t.json: [1]: must be an integer, got "x")", mlc::Error);
  }
}

TEST_CASE("validate_json: $ref and $defs") {
  const char* schema = R"({
    "properties": {"path": {"$ref": "#/$defs/path"}},
    "$defs": {"path": {"type": "string", "minLength": 1}}
  })";
  CHECK_NOTHROW(validate(R"({"path": "a.csv"})", schema));
  REQUIRE_THROWS_WITH_AS(validate(R"({"path": ""})", schema),
                         R"(t.json: path: must be a string of at least 1 character, got "")",
                         mlc::Error);
}

TEST_CASE("validate_json: oneOf and anyOf") {
  const char* data = R"({
    "properties": {"data": {"oneOf": [{"$ref": "#/$defs/idx"}, {"$ref": "#/$defs/csv"}]}},
    "$defs": {
      "idx": {"type": "object",
              "properties": {"format": {"const": "idx"}, "images": {"type": "string"}},
              "required": ["format", "images"], "additionalProperties": false},
      "csv": {"type": "object",
              "properties": {"format": {"const": "csv"}, "path": {"type": "string"},
                             "target": {"type": "string"}},
              "required": ["format", "path", "target"], "additionalProperties": false}
    }
  })";
  CHECK_NOTHROW(validate(R"({"data": {"format": "idx", "images": "x"}})", data));
  CHECK_NOTHROW(validate(R"({"data": {"format": "csv", "path": "x", "target": "y"}})", data));

  SUBCASE("the branch the discriminator selects gives the reason") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"data": {"format": "csv", "path": "x"}})", data),
                           "t.json: data: missing required key 'target'", mlc::Error);
  }
  SUBCASE("an unknown discriminator value lists the allowed ones") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"data": {"format": "npy"}})", data),
                           R"(t.json: data.format: must be one of "idx", "csv", got "npy")",
                           mlc::Error);
  }
  SUBCASE("a missing discriminator is a missing key") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"data": {"path": "x"}})", data),
                           "t.json: data: missing required key 'format'", mlc::Error);
  }
  SUBCASE("a reason every branch gives is given") {
    REQUIRE_THROWS_WITH_AS(validate(R"({"data": 5})", data),
                           "t.json: data: must be an object, got 5", mlc::Error);
  }
  SUBCASE("without a discriminator") {
    const char* either = R"({"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})";
    CHECK_NOTHROW(validate(R"("x")", either));
    REQUIRE_THROWS_WITH_AS(validate("-1", either),
                           "t.json: (root): must match one of the allowed forms, got -1",
                           mlc::Error);
  }
  SUBCASE("oneOf rejects a value that matches two branches") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})"),
                           "t.json: (root): must match exactly one of the allowed forms, matches 2",
                           mlc::Error);
  }
  SUBCASE("anyOf accepts a value that matches two branches") {
    const char* any = R"({"anyOf": [{"type": "integer"}, {"type": "number"}]})";
    CHECK_NOTHROW(validate("5", any));
    REQUIRE_THROWS_WITH_AS(validate(R"("5")", any),
                           R"(t.json: (root): must match one of the allowed forms, got "5")",
                           mlc::Error);
  }
}

TEST_CASE("validate_json: annotations are ignored") {
  CHECK_NOTHROW(validate("5", R"({"$schema": "x", "$id": "y", "title": "t", "description": "d",
                                  "default": 1, "examples": [1], "$comment": "c",
                                  "type": "integer"})"));
}

TEST_CASE("validate_json: schemas it cannot check are mlc's bugs") {
  SUBCASE("an unsupported keyword") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"type": "integer", "multipleOf": 2})"),
                           "unsupported JSON Schema keyword 'multipleOf'", mlc::Error);
    CHECK(error_kind("5", R"({"multipleOf": 2})") == mlc::ErrorKind::internal);
  }
  SUBCASE("an unsupported keyword in a part the instance does not reach") {
    REQUIRE_THROWS_WITH_AS(validate("{}", R"({"$defs": {"unused": {"if": {"type": "string"}}}})"),
                           "unsupported JSON Schema keyword 'if'", mlc::Error);
  }
  SUBCASE("a $ref outside $defs") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"$ref": "other.json#/x"})"),
                           "unsupported JSON Schema $ref 'other.json#/x': only '#/$defs/NAME' of "
                           "the same schema is supported",
                           mlc::Error);
  }
  SUBCASE("a $ref to a missing definition") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"$ref": "#/$defs/missing"})"),
                           "unsupported JSON Schema $ref '#/$defs/missing': only '#/$defs/NAME' of "
                           "the same schema is supported",
                           mlc::Error);
  }
  SUBCASE("an unknown type") {
    REQUIRE_THROWS_WITH_AS(validate("5", R"({"type": "int"})"), "unknown JSON Schema type 'int'",
                           mlc::Error);
  }
  SUBCASE("a keyword with a value of the wrong type") {
    CHECK(error_kind("5", R"({"minimum": "1"})") == mlc::ErrorKind::internal);
  }
}

TEST_CASE("apply_schema_defaults") {
  const json schema = json::parse(R"({
    "properties": {
      "model": {"type": "object", "properties": {
        "activation": {"enum": ["relu", "tanh"], "default": "relu"},
        "dropout": {"$ref": "#/$defs/fraction"}}},
      "data": {"oneOf": [
        {"properties": {"format": {"const": "idx"}}},
        {"properties": {"format": {"const": "csv"}, "test_fraction": {"default": 0.2}}}]}
    },
    "$defs": {"fraction": {"type": "number", "default": 0}}
  })");

  SUBCASE("fills absent keys of present objects, following $ref") {
    json config = json::parse(R"({"model": {"activation": "tanh"}})");
    mlc::apply_schema_defaults(config, schema);
    CHECK(config == json::parse(R"({"model": {"activation": "tanh", "dropout": 0}})"));
  }
  SUBCASE("fills from the oneOf branch the discriminator selects") {
    json csv = json::parse(R"({"data": {"format": "csv"}})");
    mlc::apply_schema_defaults(csv, schema);
    CHECK(csv["data"] == json::parse(R"({"format": "csv", "test_fraction": 0.2})"));
    json idx = json::parse(R"({"data": {"format": "idx"}})");
    mlc::apply_schema_defaults(idx, schema);
    CHECK(idx["data"] == json::parse(R"({"format": "idx"})"));
  }
  SUBCASE("fills each item of an array, by the branch its discriminator selects") {
    const json layers_schema = json::parse(R"({
      "properties": {"layers": {"type": "array", "items": {"oneOf": [
        {"properties": {"type": {"const": "conv2d"}, "stride": {"default": 1}}},
        {"properties": {"type": {"const": "dropout"}, "p": {"$ref": "#/$defs/half"}}}]}}},
      "$defs": {"half": {"type": "number", "default": 0.5}}
    })");
    json config = json::parse(R"({"layers": [{"type": "conv2d"}, {"type": "dropout"},
                                             {"type": "conv2d", "stride": 2}, 7]})");
    mlc::apply_schema_defaults(config, layers_schema);
    CHECK(config == json::parse(R"({"layers": [{"type": "conv2d", "stride": 1},
                                               {"type": "dropout", "p": 0.5},
                                               {"type": "conv2d", "stride": 2}, 7]})"));
  }
  SUBCASE("leaves values of other types alone") {
    json config = json::parse(R"({"model": 5})");
    mlc::apply_schema_defaults(config, schema);
    CHECK(config == json::parse(R"({"model": 5})"));
  }
}

TEST_CASE("embedded_schema") {
  SUBCASE("the train config schema is compiled in and parsed") {
    const json& schema = mlc::embedded_schema("train-config.schema.json");
    CHECK(schema["$id"] == "https://mlc.dev/schemas/train-config.schema.json");
    CHECK(&schema == &mlc::embedded_schema("train-config.schema.json"));
    // Only supported keywords: an empty config is the user's mistake, not mlc's.
    REQUIRE_THROWS_WITH_AS(mlc::validate_json(json::object(), schema, "t.json"),
                           "t.json: (root): missing required key 'data'", mlc::Error);
  }
  SUBCASE("an unknown name") {
    CHECK(mlc::embedded_schema_text("nope.schema.json") == nullptr);
    REQUIRE_THROWS_WITH_AS(mlc::embedded_schema("nope.schema.json"),
                           "no embedded JSON Schema 'nope.schema.json'", mlc::Error);
  }
}
