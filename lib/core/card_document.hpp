// A model card's content as a format-neutral document, and its two renderings: a self-contained
// HTML page and Markdown. card_content.cpp says what the card holds; this file only how it looks.
// Every text here is plain (as the catalogue holds it) and is escaped by the renderer, except
// Block::svgs, which svg_plot.hpp made safe already. Private to lib/core.
#pragma once

#include <string>
#include <vector>

namespace mlc::card {

struct Column {
  enum class Style { text, number, code };  // number: right-aligned; code: monospace (sha256)
  std::string title;
  Style style = Style::text;
};

struct Table {
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;  // each as many cells as columns
};

struct Fact {
  std::string label;
  std::string value;
  bool code = false;  // monospace: a sha256, a run id, a commit
};

struct Block {
  enum class Kind { heading, paragraph, note, facts, table, preformatted, figure };
  Kind kind = Kind::paragraph;
  std::string text;  // heading, paragraph, note (a warning to read), preformatted; figure: caption
  std::vector<Fact> facts;
  Table table;  // table; figure: the values drawn, which Markdown shows instead of the drawing
  std::vector<std::string> svgs;  // figure: <svg> elements, side by side
};

struct Section {
  std::string id;  // the HTML anchor
  std::string title;
  std::vector<Block> blocks;
};

struct Document {
  std::string title;     // "fmnist:3"
  std::string subtitle;  // one line under it
  std::vector<Section> sections;
  std::string footer;
};

Block heading(std::string text);
Block paragraph(std::string text);
Block note(std::string text);
Block facts(std::vector<Fact> facts);
Block table(Table table);
Block preformatted(std::string text);
Block figure(std::vector<std::string> svgs, std::string caption, Table values);

// <!DOCTYPE html> with an inline stylesheet, a Content-Security-Policy that allows nothing else to
// load or run, a table of contents, then the sections.
std::string html(const Document& document);

// GitHub-flavoured Markdown: facts as a list, tables as pipe tables, preformatted text fenced, a
// figure as its caption and its values table.
std::string markdown(const Document& document);

}  // namespace mlc::card
