#include "card_document.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mlc/markup.hpp"
#include "mlc/text.hpp"

namespace mlc::card {
namespace {

// Plain and readable in any browser; no web fonts, no script, nothing fetched.
constexpr const char* kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 1120px; margin: 2em auto; padding: 0 1.2em; color: #1f2328; line-height: 1.45; }
header h1 { margin-bottom: 0.1em; }
.subtitle { color: #57606a; margin-top: 0; }
nav { margin: 1em 0 1.5em; font-size: 0.95em; }
nav a { margin-right: 1em; color: #0969da; text-decoration: none; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.93em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; white-space: nowrap; }
td { overflow-wrap: anywhere; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em;
        word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25em 1.2em; }
dl.facts dt { font-weight: 600; color: #57606a; }
dl.facts dd { margin: 0; }
pre { background: #f6f8fa; padding: 0.8em 1em; border-radius: 6px; overflow: auto; font-size: 0.88em;
      max-height: 26em; }
.note { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 0.5em 1em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0.6em 0; }
figcaption, details { color: #57606a; font-size: 0.93em; }
footer { margin-top: 3em; color: #57606a; font-size: 0.85em; border-top: 1px solid #d0d7de; padding-top: 0.6em; }
)css";

std::string html_table(const Table& table) {
  std::string out = "<table>\n<thead><tr>";
  for (const auto& column : table.columns) out += "<th>" + markup_escaped(column.title) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const Column::Style style = i < table.columns.size() ? table.columns[i].style : Column::Style::text;
      const char* attribute = style == Column::Style::number ? " class=\"number\""
                              : style == Column::Style::code ? " class=\"code\""
                                                             : "";
      out += fmt::format("<td{}>{}</td>", attribute, markup_escaped(row[i]));
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string html_block(const Block& block) {
  switch (block.kind) {
    case Block::Kind::heading:
      return "<h3>" + markup_escaped(block.text) + "</h3>\n";
    case Block::Kind::paragraph:
      return "<p>" + markup_escaped(block.text) + "</p>\n";
    case Block::Kind::note:
      return "<p class=\"note\">" + markup_escaped(block.text) + "</p>\n";
    case Block::Kind::facts: {
      std::string out = "<dl class=\"facts\">\n";
      for (const auto& fact : block.facts) {
        out += fmt::format("<dt>{}</dt><dd{}>{}</dd>\n", markup_escaped(fact.label),
                           fact.code ? " class=\"code\"" : "", markup_escaped(fact.value));
      }
      return out + "</dl>\n";
    }
    case Block::Kind::table:
      return html_table(block.table);
    case Block::Kind::preformatted:
      return "<pre>" + markup_escaped(block.text) + "</pre>\n";
    case Block::Kind::figure: {
      std::string out = "<figure>\n<div class=\"figures\">\n";
      for (const auto& svg : block.svgs) out += svg;
      out += "</div>\n<figcaption>" + markup_escaped(block.text) + "</figcaption>\n</figure>\n";
      if (!block.table.rows.empty()) {
        out += "<details><summary>The values drawn</summary>\n" + html_table(block.table) + "</details>\n";
      }
      return out;
    }
  }
  return "";
}

// A code span when the text cannot break out of one (no backtick; no '|', which ends a table
// cell even inside a span), else escaped text.
std::string markdown_code(const std::string& text) {
  const std::string visible = printable(text);
  if (visible.empty() || visible.find_first_of("`|") != std::string::npos) return markdown_escaped(text);
  return "`" + visible + "`";
}

std::string markdown_table(const Table& table) {
  if (table.columns.empty()) return "";
  std::string header = "|";
  std::string rule = "|";
  for (const auto& column : table.columns) {
    header += " " + markdown_escaped(column.title) + " |";
    rule += column.style == Column::Style::number ? "---:|" : "---|";
  }
  std::string out = header + "\n" + rule + "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (size_t i = 0; i < row.size(); ++i) {
      const bool code = i < table.columns.size() && table.columns[i].style == Column::Style::code;
      out += " " + (code ? markdown_code(row[i]) : markdown_escaped(row[i])) + " |";
    }
    out += "\n";
  }
  return out + "\n";
}

// A fence longer than any run of backticks in the text, so that the text cannot close it.
std::string markdown_fenced(const std::string& text) {
  const std::string visible = printable(text, Newlines::keep);
  size_t longest = 0;
  size_t run = 0;
  for (char c : visible) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + "\n" + visible + (visible.empty() || visible.back() == '\n' ? "" : "\n") + fence + "\n\n";
}

std::string markdown_block(const Block& block) {
  switch (block.kind) {
    case Block::Kind::heading:
      return "### " + markdown_escaped(block.text) + "\n\n";
    case Block::Kind::paragraph:
      return markdown_escaped(block.text) + "\n\n";
    case Block::Kind::note:
      return "> **" + markdown_escaped(block.text) + "**\n\n";
    case Block::Kind::facts: {
      std::string out;
      for (const auto& fact : block.facts) {
        out += "- **" + markdown_escaped(fact.label) + ":** " +
               (fact.code ? markdown_code(fact.value) : markdown_escaped(fact.value)) + "\n";
      }
      return out + "\n";
    }
    case Block::Kind::table:
      return markdown_table(block.table);
    case Block::Kind::preformatted:
      return markdown_fenced(block.text);
    case Block::Kind::figure:
      return markdown_escaped(block.text) + "\n\n" + markdown_table(block.table);
  }
  return "";
}

}  // namespace

Block heading(std::string text) { return Block{Block::Kind::heading, std::move(text), {}, {}, {}}; }
Block paragraph(std::string text) { return Block{Block::Kind::paragraph, std::move(text), {}, {}, {}}; }
Block note(std::string text) { return Block{Block::Kind::note, std::move(text), {}, {}, {}}; }
Block facts(std::vector<Fact> facts) { return Block{Block::Kind::facts, {}, std::move(facts), {}, {}}; }
Block table(Table table) { return Block{Block::Kind::table, {}, {}, std::move(table), {}}; }
Block preformatted(std::string text) { return Block{Block::Kind::preformatted, std::move(text), {}, {}, {}}; }
Block figure(std::vector<std::string> svgs, std::string caption, Table values) {
  return Block{Block::Kind::figure, std::move(caption), {}, std::move(values), std::move(svgs)};
}

std::string html(const Document& document) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // The card is opened from disk and may be mailed around: nothing may load or run in it.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n"
      "<header>\n<h1>{0}</h1>\n<p class=\"subtitle\">{2}</p>\n</header>\n<nav>",
      markup_escaped(document.title), kStyle, markup_escaped(document.subtitle));
  for (const auto& section : document.sections) {
    out += fmt::format("<a href=\"#{}\">{}</a>", markup_escaped(section.id), markup_escaped(section.title));
  }
  out += "</nav>\n";
  for (const auto& section : document.sections) {
    out += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", markup_escaped(section.id),
                       markup_escaped(section.title));
    for (const auto& block : section.blocks) out += html_block(block);
    out += "</section>\n";
  }
  return out + "<footer>" + markup_escaped(document.footer) + "</footer>\n</body>\n</html>\n";
}

std::string markdown(const Document& document) {
  std::string out = "# " + markdown_escaped(document.title) + "\n\n" + markdown_escaped(document.subtitle) + "\n\n";
  for (const auto& section : document.sections) {
    out += "## " + markdown_escaped(section.title) + "\n\n";
    for (const auto& block : section.blocks) out += markdown_block(block);
  }
  return out + "---\n\n" + markdown_escaped(document.footer) + "\n";
}

}  // namespace mlc::card
