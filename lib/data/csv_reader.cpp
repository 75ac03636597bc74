#include "mlc/data.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/limits.hpp"
#include "mlc/text.hpp"

namespace mlc::data {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Reads the file whole, refusing more than max_data_bytes(): a regular file by its size before
// reading, anything else (/dev/zero, a pipe) as soon as it passes the limit.
std::string read_whole_file(const std::filesystem::path& path) {
  errno = 0;
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  if (!file) {
    throw Error(ErrorKind::not_found,
                fmt::format("cannot open {}: {}", path.string(), os_error_text(errno)));
  }
  const uint64_t limit = max_data_bytes();
  struct stat status {};
  if (::fstat(::fileno(file.get()), &status) == 0 && S_ISREG(status.st_mode) &&
      static_cast<uint64_t>(status.st_size) > limit) {
    throw_data_too_large(path.string());
  }
  std::string text;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    if (text.size() + got > limit) throw_data_too_large(path.string());
    text.append(buffer, got);
  }
  if (std::ferror(file.get())) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("cannot read {}: {}", path.string(), os_error_text(errno)));
  }
  return text;
}

bool is_gzip(std::string_view bytes) { return bytes.substr(0, 2) == "\x1f\x8b"; }

Error gzip_error(const std::filesystem::path& path, const std::string& what) {
  return Error(ErrorKind::invalid_input, fmt::format("{}: {}", path.string(), what));
}

// Gunzips a whole file in memory, at most max_data_bytes() of text: a gzip bomb stops at the
// limit, not at the end of its data. Members written one after another (cat a.gz b.gz) are read
// in turn, as gzip(1) reads them; anything else after a member is an error, not ignored.
std::string gunzip(std::string_view compressed, const std::filesystem::path& path) {
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip header and trailer (CRC-32 and length, both checked) around deflate.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw gzip_error(path, "out of memory");
  const std::unique_ptr<z_stream, decltype(&inflateEnd)> end(&stream, &inflateEnd);
  const uint64_t limit = max_data_bytes();
  std::string text;
  std::array<char, 1 << 16> buffer{};
  size_t fed = 0;  // bytes of `compressed` handed to zlib so far
  while (true) {
    if (stream.avail_in == 0 && fed < compressed.size()) {
      // avail_in is 32 bits wide: a large file goes in chunks.
      const size_t chunk = std::min<size_t>(compressed.size() - fed, size_t{1} << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + fed));
      stream.avail_in = static_cast<uInt>(chunk);
      fed += chunk;
    }
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    const int code = inflate(&stream, Z_NO_FLUSH);
    const size_t got = buffer.size() - stream.avail_out;
    if (text.size() + got > limit) throw_data_too_large(path.string());
    text.append(buffer.data(), got);
    const bool input_done = stream.avail_in == 0 && fed == compressed.size();
    if (code == Z_STREAM_END) {
      if (input_done) return text;
      inflateReset(&stream);
    } else if (code == Z_BUF_ERROR) {
      // No progress possible: with all the input given, the stream stops before its end.
      if (input_done) throw gzip_error(path, "truncated gzip stream");
    } else if (code != Z_OK) {
      const char* reason = stream.msg != nullptr ? stream.msg : zError(code);
      throw gzip_error(path, fmt::format("corrupt gzip stream ({})", reason));
    }
  }
}

// Cells become model names, class names and catalogue records, all UTF-8: a file in another
// encoding is refused here, with its line, rather than stored and printed as garbage. A newline
// byte never occurs inside a UTF-8 sequence, so the file can be checked line by line.
void check_utf8_lines(std::string_view text, const std::filesystem::path& path) {
  if (is_utf8(text)) return;
  int64_t line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    const size_t end = std::min(text.find('\n', start), text.size());
    check_utf8(text.substr(start, end - start), fmt::format("{}:{}", path.string(), line));
    start = end + 1;
  }
}

// Splits the text into records. Quoted fields may hold the delimiter, newlines and "" for a
// quote; a quote inside an unquoted field is kept as it is, as most spreadsheet programs do.
class CsvParser {
 public:
  CsvParser(const std::filesystem::path& path, std::string_view text, char delimiter)
      : path_(path), text_(text), delimiter_(delimiter) {
    // Spreadsheet programs often start UTF-8 files with a byte order mark; it is not part of
    // the first column's name.
    if (text_.substr(0, kByteOrderMark.size()) == kByteOrderMark) position_ = kByteOrderMark.size();
  }

  // Reads the next record into `fields`, skipping blank lines; false at the end of the file.
  bool next(std::vector<std::string>& fields, int64_t& line) {
    while (at_line_end()) {
      if (at_end()) return false;
      skip_line_end();
    }
    line = line_;
    fields.clear();
    while (true) {
      fields.push_back(at('"') ? quoted_field() : plain_field());
      if (at(delimiter_)) {
        ++position_;
        continue;
      }
      if (!at_line_end()) {
        throw error(line_, fmt::format("unexpected '{}' after a quoted field", text_[position_]));
      }
      skip_line_end();
      return true;
    }
  }

  Error error(int64_t line, const std::string& what) const {
    return Error(ErrorKind::invalid_input, fmt::format("{}:{}: {}", path_.string(), line, what));
  }

 private:
  bool at_end() const { return position_ >= text_.size(); }
  bool at(char c) const { return !at_end() && text_[position_] == c; }
  bool at_line_end() const {
    return at_end() || at('\n') || text_.compare(position_, 2, "\r\n") == 0;
  }
  void skip_line_end() {
    if (at_end()) return;
    position_ += at('\r') ? 2 : 1;
    ++line_;
  }

  std::string plain_field() {
    const size_t start = position_;
    while (!at(delimiter_) && !at_line_end()) ++position_;
    return std::string(text_.substr(start, position_ - start));
  }

  std::string quoted_field() {
    const int64_t start_line = line_;
    ++position_;  // the opening quote
    std::string field;
    while (true) {
      if (at_end()) throw error(start_line, "unterminated quoted field");
      const char c = text_[position_++];
      if (c == '"') {
        if (!at('"')) return field;
        ++position_;  // "" stands for one quote
      } else if (c == '\n') {
        ++line_;
      }
      field += c;
    }
  }

  const std::filesystem::path& path_;
  std::string_view text_;
  char delimiter_;
  size_t position_ = 0;
  int64_t line_ = 1;
};

void check_header(const std::vector<std::string>& header, int64_t line, const CsvParser& parser) {
  std::map<std::string_view, size_t> first_column;  // name -> 1-based column
  for (size_t i = 0; i < header.size(); ++i) {
    const size_t column = i + 1;
    if (header[i].empty()) throw parser.error(line, fmt::format("column {} has no name", column));
    const auto [it, inserted] = first_column.emplace(header[i], column);
    if (!inserted) {
      throw parser.error(line, fmt::format("columns {} and {} are both named '{}'", it->second,
                                           column, header[i]));
    }
  }
}

}  // namespace

char sniff_delimiter(std::string_view text) {
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) text.remove_prefix(kByteOrderMark.size());
  std::array<size_t, kCsvDelimiters.size()> counts{};
  bool seen_text = false;     // blank lines before the header are skipped, as the parser does
  bool field_start = true;    // a quote opens a quoted field only here, as in the parser
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' && field_start) {
      // Past the closing quote; "" inside stands for one quote.
      for (++i; i < text.size(); ++i) {
        if (text[i] != '"') continue;
        if (i + 1 < text.size() && text[i + 1] == '"') {
          ++i;
        } else {
          break;
        }
      }
      seen_text = true;
      field_start = false;
      continue;
    }
    if (c == '\n') {
      if (seen_text) break;
      field_start = true;  // a blank line before the header: the next character starts a field
      continue;
    }
    if (c == '\r') continue;  // the \r of a \r\n: neither text nor the end of a field
    seen_text = true;
    const size_t which = kCsvDelimiters.find(c);
    if (which != std::string_view::npos) ++counts[which];
    field_start = which != std::string_view::npos;
  }
  const auto most = std::max_element(counts.begin(), counts.end());  // the first of equals
  return *most == 0 ? ',' : kCsvDelimiters[static_cast<size_t>(most - counts.begin())];
}

CsvTable parse_csv(std::string_view text, const std::filesystem::path& path,
                   std::optional<char> delimiter) {
  if (delimiter && (*delimiter == '\0' || kCsvDelimiters.find(*delimiter) == std::string_view::npos)) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: the delimiter must be one of ',', ';', tab and '|', not {:?}",
                            path.string(), std::string(1, *delimiter)));
  }
  check_utf8_lines(text, path);
  CsvTable table;
  table.delimiter = delimiter ? *delimiter : sniff_delimiter(text);
  CsvParser parser(path, text, table.delimiter);
  int64_t line = 0;
  if (!parser.next(table.header, line)) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: empty CSV file, expected a header row", path.string()));
  }
  check_header(table.header, line, parser);
  std::vector<std::string> fields;
  while (parser.next(fields, line)) {
    if (fields.size() != table.header.size()) {
      throw parser.error(
          line, fmt::format("expected {} fields, found {}", table.header.size(), fields.size()));
    }
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(line);
  }
  return table;
}

CsvTable read_csv(const std::filesystem::path& path, std::optional<char> delimiter) {
  std::string bytes = read_whole_file(path);
  if (is_gzip(bytes)) bytes = gunzip(bytes, path);
  return parse_csv(bytes, path, delimiter);
}

}  // namespace mlc::data
