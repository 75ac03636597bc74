#include "mlc/train_config.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/json_input.hpp"
#include "mlc/json_schema.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kSchemaName = "train-config.schema.json";

// The keys of "data" that name files: those the schema declares as "$ref": "#/$defs/path".
const char* const kDataPathKeys[] = {"train_images", "train_labels", "test_images", "test_labels",
                                     "path"};

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

// Where each data file name of a config came from, so that a relative one is resolved against
// what the person who wrote it was looking at: the config file's directory, or (for --set) the
// current directory.
using PathOrigins = std::map<std::string, fs::path>;  // data key -> directory to resolve against

// Applies one "KEY.PATH=VALUE". A value that is not JSON is a string, so that names and file
// names need no shell-escaped quotes.
void apply_override(json& config, const std::string& assignment, PathOrigins& origins) {
  check_utf8(assignment, "--set");
  auto equals = assignment.find('=');
  auto keys = split_key_path(assignment.substr(0, equals));
  bool has_empty_key =
      std::any_of(keys.begin(), keys.end(), [](const auto& key) { return key.empty(); });
  if (equals == std::string::npos || has_empty_key) {
    throw Error(ErrorKind::usage, fmt::format("--set '{}': expected KEY=VALUE", assignment));
  }
  if (keys.size() > kMaxJsonDepth) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("--set '{}': a key path deeper than {} levels", assignment, kMaxJsonDepth));
  }
  std::string text = assignment.substr(equals + 1);
  // Text that is JSON is read as strictly as a file (duplicate keys, depth, integer range).
  json value = json::accept(text) ? parse_json(text, fmt::format("--set '{}'", assignment))
                                  : json(text);

  json* node = &config;
  std::string walked = "(root)";
  for (size_t index = 0; index < keys.size(); ++index) {
    if (!node->is_object()) {
      throw Error(ErrorKind::usage,
                  fmt::format("--set '{}': '{}' is not an object", assignment, walked));
    }
    if (index + 1 == keys.size()) {
      (*node)[keys[index]] = std::move(value);
      // "data.path=x.csv", or "data={...}" with file names in it, was typed here.
      for (const char* key : kDataPathKeys) {
        if (keys[0] == "data" && (keys.size() == 1 || (keys.size() == 2 && keys[1] == key))) {
          origins[key] = fs::current_path();
        }
      }
      break;  // the last key: `value` is spent
    } else {
      node = &node->emplace(keys[index], json::object()).first.value();
      walked = index == 0 ? keys[index] : walked + "." + keys[index];
    }
  }
}

// Makes the data file names absolute: an absolute one stays as it is; a relative one is resolved
// as the kernel would open it from `base`, links included (weakly_canonical: "cfg/../data" where
// cfg is a link goes up from the link's target, which lexically_normal would not).
void resolve_data_paths(json& data, const fs::path& config_dir, const PathOrigins& origins) {
  for (const char* key : kDataPathKeys) {
    auto value = data.find(key);
    if (value == data.end()) continue;
    const fs::path given = value->get<std::string>();
    if (given.is_relative()) {
      const auto origin = origins.find(key);
      const fs::path& base = origin != origins.end() ? origin->second : config_dir;
      std::error_code error;
      fs::path resolved = fs::weakly_canonical(fs::absolute(base / given), error);
      if (error) resolved = fs::absolute(base / given).lexically_normal();  // opened, and refused, later
      *value = resolved.string();
    } else {
      *value = given.lexically_normal().string();
    }
    // The catalogue records the name as JSON, which holds only UTF-8.
    check_utf8(value->get_ref<const std::string&>(), fmt::format("data.{}", key));
  }
}

}  // namespace

json load_train_config(const fs::path& file, const std::vector<std::string>& overrides) {
  // The catalogue records the config's name as JSON, which holds only UTF-8.
  check_utf8(fs::absolute(file).string(), "train config file name");
  json config = read_json_file(file);
  PathOrigins origins;
  for (const auto& assignment : overrides) apply_override(config, assignment, origins);
  const json& schema = embedded_schema(kSchemaName);
  apply_schema_defaults(config, schema);
  validate_json(config, schema, file.string());
  // Relative to where the config file really is, should its name be a link to it.
  std::error_code error;
  const fs::path real_file = fs::weakly_canonical(fs::absolute(file), error);
  resolve_data_paths(config["data"], (error ? fs::absolute(file) : real_file).parent_path(), origins);
  return config;
}

}  // namespace mlc
