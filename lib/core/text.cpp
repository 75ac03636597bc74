#include "mlc/text.hpp"

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc {

// RFC 3629, table 3-7 of the Unicode standard: the allowed range of the second byte depends on
// the first, which is what excludes overlong forms, surrogates and code points above U+10FFFF.
Utf8Character decode_utf8(std::string_view text, size_t offset) {
  auto byte = [&](size_t index) { return static_cast<unsigned char>(text[offset + index]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {};
  }
  if (offset + length > text.size() || byte(1) < low || byte(1) > high) return {};
  char32_t code_point = lead & (0xFF >> (length + 1));
  for (size_t index = 1; index < length; ++index) {
    if (index > 1 && (byte(index) & 0xC0) != 0x80) return {};
    code_point = (code_point << 6) | (byte(index) & 0x3F);
  }
  return {code_point, length};
}

namespace {

bool is_control(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

std::string escape(char32_t code_point) {
  switch (code_point) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  return code_point < 0x80 ? fmt::format("\\x{:02x}", static_cast<unsigned>(code_point))
                           : fmt::format("\\u{:04x}", static_cast<unsigned>(code_point));
}

}  // namespace

bool is_utf8(std::string_view text) {
  for (size_t offset = 0; offset < text.size();) {
    const size_t length = decode_utf8(text, offset).length;
    if (length == 0) return false;
    offset += length;
  }
  return true;
}

void check_utf8(std::string_view text, std::string_view what) {
  for (size_t offset = 0; offset < text.size();) {
    const size_t length = decode_utf8(text, offset).length;
    if (length == 0) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("{}: not valid UTF-8 (byte 0x{:02X} at offset {})", what,
                              static_cast<unsigned char>(text[offset]), offset));
    }
    offset += length;
  }
}

void check_text(std::string_view text, std::string_view what) {
  check_utf8(text, what);
  for (size_t offset = 0; offset < text.size();) {
    const Utf8Character character = decode_utf8(text, offset);
    if (is_control(character.code_point)) {
      throw Error(ErrorKind::invalid_input,
                  fmt::format("{}: control character U+{:04X} at offset {} is not allowed", what,
                              static_cast<unsigned>(character.code_point), offset));
    }
    offset += character.length;
  }
}

std::string printable(std::string_view text, Newlines newlines) {
  std::string result;
  result.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    const Utf8Character character = decode_utf8(text, offset);
    if (character.length == 0) {
      result += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[offset]));
      ++offset;
      continue;
    }
    const bool kept = character.code_point == '\n' && newlines == Newlines::keep;
    if (is_control(character.code_point) && !kept) {
      result += escape(character.code_point);
    } else {
      result.append(text, offset, character.length);
    }
    offset += character.length;
  }
  return result;
}

std::string shortened(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t offset = 0; offset < text.size(); ++offset) {
    if ((static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) continue;  // continuation
    if (chars++ == max_chars) return std::string(text.substr(0, offset)) + "...";
  }
  return std::string(text);
}

}  // namespace mlc
