// Text laid out for a terminal: tables whose columns fit their content, and lines fitted to the
// terminal's width. Widths are counted in terminal columns, not bytes: each character of
// well-formed UTF-8 is one column, except combining marks (none) and East Asian wide characters
// and emoji (two). Callers pass text already made printable (text.hpp); control characters in it
// would be counted as one column each.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlc {

// The columns `text` takes on a terminal (see above).
size_t display_width(std::string_view text);

// The longest prefix of `text` that fits in `columns` terminal columns, never cut inside a UTF-8
// sequence; `text` itself when it fits.
std::string cut_to_width(std::string_view text, size_t columns);

// `text` broken into lines of at most `columns` columns at the separators ", " and "  " (the
// separator ends the line it breaks, without its trailing spaces), each later line starting
// with `indent`. A piece longer than a line on its own is cut (cut_to_width). Joined with '\n',
// no trailing newline.
std::string wrap_to_width(std::string_view text, size_t columns, std::string_view indent = "  ");

// A table for people: a header row and rows of cells, each column as wide as its widest cell,
// columns two spaces apart, no trailing spaces. Alignment is per column, by the header:
// TextTable({"MODEL", ">VERSION"}) right-aligns VERSION (the '>' is not printed).
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers);

  // A row of exactly as many cells as there are headers; throws std::invalid_argument otherwise.
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The header line and one line per row, each ending in '\n'.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace mlc
