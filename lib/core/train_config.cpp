#include "mlc/train_config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"

namespace mlc {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kSchemaName = "train-config.schema.json";

// The keys of "data" that name files: those the schema declares as "$ref": "#/$defs/path".
const char* const kDataPathKeys[] = {"train_images", "train_labels", "test_images", "test_labels",
                                     "path"};

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ignored;
  if (!in || fs::is_directory(file, ignored)) {
    throw Error(ErrorKind::not_found, fmt::format("cannot read {}", file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::not_found, fmt::format("cannot read {}", file.string()));
  return text.str();
}

// nlohmann reports the 1-based byte offset of the character at fault; editors want its line and
// its column in characters, so UTF-8 continuation bytes do not count.
std::pair<size_t, size_t> line_and_column(const std::string& text, size_t byte_offset) {
  size_t line = 1;
  size_t column = 1;
  size_t end = std::min(byte_offset == 0 ? 0 : byte_offset - 1, text.size());
  for (size_t index = 0; index < end; ++index) {
    if (text[index] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[index]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// "[json.exception.parse_error.101] parse error at line 3, column 3: syntax error while parsing
// object key - unexpected '}'; expected string literal" -> "unexpected '}'; expected string
// literal". The position is dropped because ours counts characters; "last read: '...'" because it
// may span lines.
std::string short_reason(const std::string& what) {
  std::string reason = what;
  if (auto colon = reason.find(": "); colon != std::string::npos) reason.erase(0, colon + 2);
  if (auto dash = reason.find(" - ");
      reason.rfind("syntax error", 0) == 0 && dash != std::string::npos) {
    reason.erase(0, dash + 3);
  }
  return reason.substr(0, reason.find("; last read: "));
}

json parse_config(const std::string& text, const fs::path& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    auto [line, column] = line_and_column(text, error.byte);
    throw Error(ErrorKind::invalid_input, fmt::format("{}:{}:{}: invalid JSON: {}", file.string(),
                                                      line, column, short_reason(error.what())));
  }
}

std::vector<std::string> split_key_path(const std::string& key_path) {
  std::vector<std::string> keys;
  std::string::size_type start = 0;
  for (auto dot = key_path.find('.'); dot != std::string::npos; dot = key_path.find('.', start)) {
    keys.push_back(key_path.substr(start, dot - start));
    start = dot + 1;
  }
  keys.push_back(key_path.substr(start));
  return keys;
}

// Applies one "KEY.PATH=VALUE". A value that is not JSON is a string, so that names and file
// names need no shell-escaped quotes.
void apply_override(json& config, const std::string& assignment) {
  auto equals = assignment.find('=');
  auto keys = split_key_path(assignment.substr(0, equals));
  bool has_empty_key =
      std::any_of(keys.begin(), keys.end(), [](const auto& key) { return key.empty(); });
  if (equals == std::string::npos || has_empty_key) {
    throw Error(ErrorKind::usage, fmt::format("--set '{}': expected KEY=VALUE", assignment));
  }
  std::string text = assignment.substr(equals + 1);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  json* node = &config;
  std::string walked = "(root)";
  for (size_t index = 0; index < keys.size(); ++index) {
    if (!node->is_object()) {
      throw Error(ErrorKind::usage,
                  fmt::format("--set '{}': '{}' is not an object", assignment, walked));
    }
    if (index + 1 == keys.size()) {
      (*node)[keys[index]] = std::move(value);
    } else {
      node = &node->emplace(keys[index], json::object()).first.value();
      walked = index == 0 ? keys[index] : walked + "." + keys[index];
    }
  }
}

void resolve_data_paths(json& data, const fs::path& config_dir) {
  for (const char* key : kDataPathKeys) {
    auto value = data.find(key);
    if (value == data.end()) continue;
    *value = fs::absolute(config_dir / value->get<std::string>()).lexically_normal().string();
  }
}

}  // namespace

json load_train_config(const fs::path& file, const std::vector<std::string>& overrides) {
  json config = parse_config(read_text(file), file);
  for (const auto& assignment : overrides) apply_override(config, assignment);
  const json& schema = embedded_schema(kSchemaName);
  apply_schema_defaults(config, schema);
  validate_json(config, schema, file.string());
  resolve_data_paths(config["data"], file.parent_path());
  return config;
}

}  // namespace mlc
