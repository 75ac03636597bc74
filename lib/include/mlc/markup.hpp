// Catalogue text made safe for the documents mlc writes for people to open in a browser or a
// Markdown viewer (mlc card): HTML, the SVG inside it, and Markdown. Class names, model names,
// descriptions, tags and config strings may hold '<', '&', quotes and any other UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace mlc {

// `text` as HTML or XML character data, or as a quoted attribute value: & < > " ' written as
// entities; control characters and bytes that are not UTF-8 written visibly as printable()
// (text.hpp) does, since XML 1.0 cannot hold them even as entities; newlines kept; U+FFFE and
// U+FFFF, which are UTF-8 but not XML characters, as U+FFFD. The result is valid in an SVG that an
// XML parser reads.
std::string markup_escaped(std::string_view text);

// `text` as Markdown inline text that renders as itself and stays one table cell: the ASCII
// punctuation Markdown gives a meaning to (\ ` * _ [ ] < > & | # ~) backslash-escaped, so that
// '<b>' is not HTML and '|' does not end the cell; control characters, newlines included,
// written visibly as printable() does.
std::string markdown_escaped(std::string_view text);

// A metric or count for people: integers as integers ("14"), other values with 4 decimals
// ("0.8812"), very small or very large ones in 4 significant digits ("1.234e-06"); "nan", "inf",
// "-inf" as such.
std::string number_text(double value);

}  // namespace mlc
