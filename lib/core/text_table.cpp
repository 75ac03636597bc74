#include "mlc/text_table.hpp"

#include <algorithm>
#include <stdexcept>

#include "mlc/text.hpp"

namespace mlc {
namespace {

// The character at `offset`; a byte that starts no well-formed sequence is one U+FFFD, one byte
// and one column wide, so that a width is defined for any bytes.
Utf8Character next_character(std::string_view text, size_t offset) {
  const Utf8Character character = decode_utf8(text, offset);
  return character.length == 0 ? Utf8Character{0xFFFD, 1} : character;
}

// Zero for combining marks, two for East Asian wide and fullwidth characters and emoji (the
// ranges wcwidth() gives two, in outline), else one.
size_t columns_of(char32_t c) {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || (c >= 0xFE00 && c <= 0xFE0F)) return 0;
  const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
                    (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
                    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
                    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
                    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
                    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
  return wide ? 2 : 1;
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t offset = 0; offset < text.size();) {
    const Utf8Character character = next_character(text, offset);
    width += columns_of(character.code_point);
    offset += character.length;
  }
  return width;
}

std::string cut_to_width(std::string_view text, size_t columns) {
  size_t width = 0;
  size_t offset = 0;
  while (offset < text.size()) {
    const Utf8Character character = next_character(text, offset);
    const size_t next_width = width + columns_of(character.code_point);
    if (next_width > columns) break;
    width = next_width;
    offset += character.length;
  }
  return std::string(text.substr(0, offset));
}

std::string wrap_to_width(std::string_view text, size_t columns, std::string_view indent) {
  // Pieces end after each separator, so that a line never starts with one.
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if ((text[i] == ',' || text[i] == ' ') && text[i + 1] == ' ') {
      pieces.push_back(text.substr(start, i + 2 - start));
      start = i + 2;
      ++i;
    }
  }
  pieces.push_back(text.substr(start));

  std::vector<std::string> lines{""};
  for (const std::string_view piece : pieces) {
    const bool has_content = lines.size() == 1 ? !lines.back().empty() : lines.back() != indent;
    if (has_content && display_width(trim_right(lines.back() + std::string(piece))) > columns) {
      lines.back() = std::string(trim_right(lines.back()));
      lines.emplace_back(indent);
    }
    lines.back() += piece;
  }
  std::string wrapped;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) wrapped += "\n";
    wrapped += cut_to_width(trim_right(lines[i]), columns);
  }
  return wrapped;
}

TextTable::TextTable(std::vector<std::string> headers) {
  for (auto& header : headers) {
    const bool right = !header.empty() && header.front() == '>';
    right_aligned_.push_back(right);
    headers_.push_back(right ? header.substr(1) : std::move(header));
  }
}

void TextTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != headers_.size()) {
    throw std::invalid_argument("TextTable::add_row: " + std::to_string(cells.size()) + " cells for " +
                                std::to_string(headers_.size()) + " columns");
  }
  rows_.push_back(std::move(cells));
}

std::string TextTable::render() const {
  std::vector<size_t> widths;
  for (const auto& header : headers_) widths.push_back(display_width(header));
  for (const auto& row : rows_) {
    for (size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], display_width(row[column]));
    }
  }
  std::string text;
  const auto render_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t column = 0; column < cells.size(); ++column) {
      const std::string padding(widths[column] - display_width(cells[column]), ' ');
      if (column > 0) line += "  ";
      line += right_aligned_[column] ? padding + cells[column] : cells[column] + padding;
    }
    text += std::string(trim_right(line)) + "\n";
  };
  render_row(headers_);
  for (const auto& row : rows_) render_row(row);
  return text;
}

}  // namespace mlc
