// Reading the train config inside the backend.
//
// The config reaching the backend has passed the schema check with its defaults filled in, so a
// key that is missing or of the wrong type here is a bug upstream, not a user's mistake: it is
// reported as Error(internal) naming the key, instead of nlohmann's message about a json_pointer.
#pragma once

#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mlc/error.hpp"

namespace mlc::compute {

// The value at `pointer` (RFC 6901, e.g. "/training/epochs") converted to T; `what` names the
// object `config` is, for the message.
template <typename T>
T config_value(const nlohmann::json& config, const std::string& pointer,
               const char* what = "train config") {
  try {
    return config.at(nlohmann::json::json_pointer(pointer)).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::internal,
                fmt::format("{}: {} is missing or has the wrong type", what, pointer));
  }
}

inline bool config_has(const nlohmann::json& config, const std::string& pointer) {
  return config.contains(nlohmann::json::json_pointer(pointer));
}

}  // namespace mlc::compute
