#include "mlc/markup.hpp"

#include <cmath>

#include <fmt/format.h>

#include "mlc/text.hpp"

namespace mlc {

std::string markup_escaped(std::string_view text) {
  const std::string visible = printable(text, Newlines::keep);
  std::string escaped;
  escaped.reserve(visible.size() + visible.size() / 8);
  for (size_t i = 0; i < visible.size(); ++i) {
    const char c = visible[i];
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default:
        // EF BF BE / EF BF BF: U+FFFE, U+FFFF, which an XML parser refuses outright.
        if (c == '\xEF' && i + 2 < visible.size() && visible[i + 1] == '\xBF' &&
            (visible[i + 2] == '\xBE' || visible[i + 2] == '\xBF')) {
          escaped += "\xEF\xBF\xBD";
          i += 2;
        } else {
          escaped += c;
        }
    }
  }
  return escaped;
}

std::string markdown_escaped(std::string_view text) {
  constexpr std::string_view kSpecial = "\\`*_[]<>&|#~";
  const std::string visible = printable(text);
  std::string escaped;
  escaped.reserve(visible.size() + visible.size() / 8);
  for (char c : visible) {
    if (kSpecial.find(c) != std::string_view::npos) escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";  // -0 too
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e6) return fmt::format("{:.4f}", value);
  return fmt::format("{:.4g}", value);
}

}  // namespace mlc
