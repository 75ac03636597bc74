#include "mlc/reference.hpp"

#include <charconv>

#include "mlc/error.hpp"

namespace mlc {
namespace {

constexpr size_t kMaxNameLength = 128;

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

void check_name(std::string_view name, std::string_view what) {
  const std::string quoted = "'" + std::string(name) + "'";
  if (name.empty()) throw Error(ErrorKind::invalid_input, std::string(what) + " must not be empty");
  if (name.size() > kMaxNameLength) {
    throw Error(ErrorKind::invalid_input,
                std::string(what) + " " + quoted + " is longer than 128 characters");
  }
  // Names starting with '.' are mlc's own bookkeeping beside a name's directory (".NAME.new-X",
  // ".NAME.removed-X", ".FILE.tmp-X"); "." and ".." are not names at all.
  if (name[0] == '.') {
    throw Error(ErrorKind::invalid_input,
                std::string(what) + " " + quoted +
                    " must not start with '.' (such names are mlc's own bookkeeping)");
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      throw Error(ErrorKind::invalid_input, std::string(what) + " " + quoted +
                                                " may contain only letters, digits, '.', '_' and '-'");
    }
  }
}

Reference parse_reference(std::string_view text) {
  Reference ref;
  ref.text = std::string(text);
  const auto at = text.find('@');
  const auto colon = text.find(':');
  auto fail = [&](const std::string& why) -> Error {
    return Error(ErrorKind::usage, "reference '" + ref.text + "': " + why +
                                       " (expected NAME, NAME:VERSION or NAME@TARGET)");
  };
  if (at != std::string_view::npos && colon != std::string_view::npos) throw fail("both ':' and '@'");
  const auto split = at != std::string_view::npos ? at : colon;
  ref.model = std::string(text.substr(0, split));
  try {
    check_name(ref.model, "model name");
  } catch (const Error& e) {
    throw fail(e.what());
  }
  if (split == std::string_view::npos) return ref;

  const std::string_view rest = text.substr(split + 1);
  if (at != std::string_view::npos) {
    ref.kind = Reference::Kind::target;
    ref.target = std::string(rest);
    try {
      check_name(ref.target, "target");
    } catch (const Error& e) {
      throw fail(e.what());
    }
    return ref;
  }
  ref.kind = Reference::Kind::version;
  const auto* end = rest.data() + rest.size();
  auto [ptr, ec] = std::from_chars(rest.data(), end, ref.version);
  if (rest.empty() || ec != std::errc() || ptr != end || ref.version < 1) {
    throw fail("version '" + std::string(rest) + "' is not a positive integer");
  }
  return ref;
}

}  // namespace mlc
