// Free text from users (--reason, --description, tags, $MLC_ACTOR) and from the catalogue: checked
// on the way in, made harmless on the way out.
//
// The catalogue keeps text for good (history rows cannot be changed) and prints it as JSON, which
// must be UTF-8: one invalid byte recorded would make `mlc --json history` fail forever. A newline
// or an escape sequence printed raw would forge rows of `mlc history` or drive the terminal.
#pragma once

#include <string>
#include <string_view>

namespace mlc {

// One character decoded from UTF-8 at a byte offset: its code point and how many bytes it took;
// length 0 when the bytes there are not a well-formed sequence (a stray continuation byte, an
// overlong form, a surrogate, a code point above U+10FFFF, a sequence cut short).
struct Utf8Character {
  char32_t code_point = 0;
  size_t length = 0;
};
Utf8Character decode_utf8(std::string_view text, size_t offset);

// Whether `text` is well-formed UTF-8: no stray continuation bytes, no overlong forms, no
// surrogates (U+D800-DFFF), nothing above U+10FFFF.
bool is_utf8(std::string_view text);

// Throws Error(invalid_input) "WHAT: not valid UTF-8 (byte 0xFF at offset 3)" unless `text` is
// well-formed UTF-8.
void check_utf8(std::string_view text, std::string_view what);

// check_utf8, and refuses control characters as well (C0 with tab and newline, DEL, C1), since
// the text is one field of one line: "WHAT: control character U+000A at offset 5 is not allowed".
void check_text(std::string_view text, std::string_view what);

enum class Newlines { escape, keep };

// `text` as it may be shown on a terminal: each control character written as a visible escape
// (\n, \r, \t, \x1b, \x7f; C1 characters as \u0085) and each byte that is not part of well-formed
// UTF-8 as \xNN; everything else unchanged (backslashes too). With Newlines::keep, '\n' stays a
// line break (for a whole block of output whose fields were escaped already). The result is
// valid UTF-8 and holds no control character but those kept.
std::string printable(std::string_view text, Newlines newlines = Newlines::escape);

// `text` cut to at most `max_chars` characters with "..." appended when it was longer, never in
// the middle of a UTF-8 sequence; for quoting user input in one-line messages.
std::string shortened(std::string_view text, size_t max_chars);

}  // namespace mlc
