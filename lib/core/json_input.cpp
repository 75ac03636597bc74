#include "mlc/json_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mlc/environment.hpp"
#include "mlc/error.hpp"
#include "mlc/text.hpp"

namespace mlc {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kMaxBytesVariable = "MLC_MAX_JSON_BYTES";

// Keys are quoted in messages up to this many characters, so that a line stays a line.
constexpr size_t kMaxKeyChars = 40;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Error cannot_read(const fs::path& file, int error) {
  return Error(ErrorKind::not_found,
               fmt::format("cannot read {}: {}", file.string(), os_error_text(error)));
}

Error too_large(const fs::path& file, uint64_t limit) {
  return Error(ErrorKind::invalid_input,
               fmt::format("{}: larger than {} bytes (the limit for JSON input; {} raises it)",
                           file.string(), limit, kMaxBytesVariable));
}

// nlohmann reports the 1-based byte offset of the character at fault; editors want its line and
// its column in characters, so UTF-8 continuation bytes do not count.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t byte_offset) {
  size_t line = 1;
  size_t column = 1;
  size_t end = std::min(byte_offset == 0 ? 0 : byte_offset - 1, text.size());
  for (size_t index = 0; index < end; ++index) {
    if (text[index] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[index]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// "[json.exception.parse_error.101] parse error at line 3, column 3: syntax error while parsing
// object key - unexpected '}'; expected string literal" -> "unexpected '}'; expected string
// literal". The position is dropped because ours counts characters; "last read: '...'" because it
// may span lines. "[json.exception.out_of_range.406] number overflow parsing '1e999'" keeps its
// text.
std::string short_reason(const std::string& what) {
  std::string reason = what;
  if (reason.rfind("[json.exception.", 0) == 0) reason.erase(0, reason.find("] ") + 2);
  if (reason.rfind("parse error", 0) == 0) reason.erase(0, reason.find(": ") + 2);
  if (auto dash = reason.find(" - ");
      reason.rfind("syntax error", 0) == 0 && dash != std::string::npos) {
    reason.erase(0, dash + 3);
  }
  return reason.substr(0, reason.find("; last read: "));
}

// Builds the document from nlohmann's SAX events (its parser is iterative, so any depth is safe
// to read), refusing what json::parse would accept silently. Each refusal stops the parse.
class StrictBuilder : public nlohmann::json_sax<json> {
 public:
  StrictBuilder(std::string_view text, const std::string& origin) : text_(text), origin_(origin) {}

  json take() { return std::move(root_); }
  const std::string& problem() const { return problem_; }

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add(value); }
  bool number_unsigned(number_unsigned_t value) override { return add(value); }
  bool number_float(number_float_t value, const string_t& literal) override {
    // nlohmann falls back to a double for an integer literal that 64 bits cannot hold; it would
    // then be recorded as 1e+20 or wrap when read back as an integer.
    if (literal.find_first_of(".eE") == string_t::npos) {
      return refuse(path(), fmt::format("integer {} is out of range (at most 64 bits)",
                                        shortened(literal, kMaxKeyChars)));
    }
    return add(value);
  }
  bool string(string_t& value) override { return add(std::move(value)); }
  bool binary(binary_t& value) override { return add(json::binary(std::move(value))); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& key) override {
    Level& level = levels_.back();
    if (level.node->contains(key)) {
      return refuse(container_path() + member_path(key),
                    fmt::format("duplicate key \"{}\"", shortened(key, kMaxKeyChars)));
    }
    level.member = &(*level.node)[key];
    level.key = std::move(key);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    auto [line, column] = line_and_column(text_, position);
    problem_ = fmt::format("{}:{}:{}: invalid JSON: {}", origin_, line, column,
                           short_reason(error.what()));
    return false;
  }

 private:
  // An array or object being filled, entered through `segment` of its parent ("" for the
  // document, ".KEY" or "[INDEX]"); `member` is the slot of an object's current key.
  struct Level {
    json* node;
    std::string segment;
    json* member = nullptr;
    std::string key;
  };

  json* place(json value) {
    if (levels_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Level& level = levels_.back();
    if (level.node->is_array()) {
      level.node->push_back(std::move(value));
      return &level.node->back();
    }
    *level.member = std::move(value);
    return level.member;
  }

  bool add(json value) {
    place(std::move(value));
    return true;
  }

  bool open(json container) {
    if (levels_.size() == kMaxJsonDepth) {
      return refuse(path(), fmt::format("nested deeper than {} levels of arrays and objects",
                                        kMaxJsonDepth));
    }
    std::string segment = slot_segment();
    levels_.push_back(Level{place(std::move(container)), std::move(segment), nullptr, {}});
    return true;
  }

  bool close() {
    levels_.pop_back();
    return true;
  }

  static std::string member_path(const std::string& key) {
    return "." + shortened(key, kMaxKeyChars);
  }

  // Where the value being read goes, as seen from the innermost container: ".KEY", "[INDEX]".
  std::string slot_segment() const {
    if (levels_.empty()) return "";
    const Level& level = levels_.back();
    if (level.node->is_array()) return fmt::format("[{}]", level.node->size());
    return member_path(level.key);
  }

  std::string container_path() const {
    std::string text;
    for (const auto& level : levels_) text += level.segment;
    return text;
  }

  // Where the value being read goes: "targets.production", "model.layers[3]".
  std::string path() const { return container_path() + slot_segment(); }

  bool refuse(const std::string& at, const std::string& reason) {
    const std::string key_path = at.empty() ? "(root)" : at.substr(at[0] == '.' ? 1 : 0);
    problem_ = fmt::format("{}: {}: {}", origin_, key_path, reason);
    return false;
  }

  std::string_view text_;
  const std::string& origin_;
  json root_;
  std::vector<Level> levels_;
  std::string problem_;
};

}  // namespace

uint64_t max_json_bytes() {
  const auto text = environment_variable(kMaxBytesVariable);
  if (!text) return kDefaultMaxJsonBytes;
  const std::string& value = *text;
  uint64_t bytes = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, bytes);
  if (ec != std::errc() || ptr != end || bytes == 0) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: '{}' is not a positive number of bytes", kMaxBytesVariable,
                            shortened(value, kMaxKeyChars)));
  }
  return bytes;
}

std::string read_json_text(const fs::path& file) {
  const uint64_t limit = max_json_bytes();
  FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw cannot_read(file, errno);
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw cannot_read(file, errno);
  if (S_ISDIR(status.st_mode)) throw cannot_read(file, EISDIR);
  if (S_ISREG(status.st_mode) && static_cast<uint64_t>(status.st_size) > limit) {
    throw too_large(file, limit);
  }
  // Pipes and devices have no size to check first: read until the end or one byte too many.
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) throw cannot_read(file, errno);
    if (count == 0) return text;
    if (text.size() + static_cast<uint64_t>(count) > limit) throw too_large(file, limit);
    text.append(buffer, static_cast<size_t>(count));
  }
}

json parse_json(std::string_view text, const std::string& origin) {
  StrictBuilder builder(text, origin);
  if (!json::sax_parse(text.begin(), text.end(), &builder)) {
    throw Error(ErrorKind::invalid_input, builder.problem());
  }
  return builder.take();
}

json read_json_file(const fs::path& file) {
  return parse_json(read_json_text(file), file.string());
}

}  // namespace mlc
