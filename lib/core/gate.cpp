#include "mlc/gate.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "mlc/reference.hpp"

namespace mlc {
namespace {

// The characters std::regex's \s matched in the C locale.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_number_char(char c) {
  return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}
// What may follow "NAME." as a class: anything up to white space or an operator.
bool is_dotted_class_char(char c) {
  return !is_space(c) && c != '<' && c != '>' && c != '=' && c != '[' && c != ']';
}

// check_name's limit: a longer run of name characters is refused there, so it is not scanned.
constexpr size_t kMaxTargetLength = 128;

// A target name's characters (check_name: letters, digits, '.', '_', '-').
bool is_target_char(char c) { return is_letter(c) || is_digit(c) || c == '.' || c == '-'; }

// Whether `text` is an unsigned decimal number and nothing else: DIGITS[.DIGITS][e[+-]DIGITS]
// (or .DIGITS). Stops at the first character that cannot belong, so it costs at most one pass.
bool is_unsigned_number(std::string_view text) {
  size_t i = 0, digits = 0;
  while (i < text.size() && is_digit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const size_t exponent_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == exponent_start) return false;
  }
  return i == text.size();
}

// Reads the expression left to right; each take_* returns what it consumed ("" for nothing).
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skip_spaces() {
    while (position_ < text_.size() && is_space(text_[position_])) ++position_;
  }
  std::string_view take_identifier() {
    if (position_ >= text_.size() || !is_letter(text_[position_])) return {};
    return take_while([](char c) { return is_letter(c) || is_digit(c); });
  }
  // NAME, NAME[CLASS] or NAME.CLASS, the last two as "NAME[CLASS]"; "" when malformed. CLASS in
  // brackets is anything but ']' (spaces and '/' included: "T-shirt/top", "Ankle boot").
  std::string take_metric() {
    const std::string_view name = take_identifier();
    if (name.empty() || at_end()) return std::string(name);
    std::string_view class_name;
    if (text_[position_] == '[') {
      ++position_;
      class_name = take_while([](char c) { return c != ']'; });
      if (at_end()) return {};  // no closing bracket
      ++position_;
      if (class_name.empty()) return {};
    } else if (text_[position_] == '.') {
      ++position_;
      class_name = take_while(is_dotted_class_char);
      if (class_name.empty()) return {};
    } else {
      return std::string(name);
    }
    return std::string(name) + "[" + std::string(class_name) + "]";
  }
  std::string_view take_comparison() {
    // Two-character operators first: "<=" is not "<" followed by "=".
    for (std::string_view op : std::array<std::string_view, 5>{">=", "<=", "==", ">", "<"}) {
      if (text_.substr(position_, op.size()) == op) {
        position_ += op.size();
        return op;
      }
    }
    return {};
  }
  std::string_view take_number() { return take_while(is_number_char); }
  bool take(char c) {
    if (at_end() || text_[position_] != c) return false;
    ++position_;
    return true;
  }
  std::string_view rest() const { return text_.substr(position_); }
  bool at_end() const { return position_ == text_.size(); }

 private:
  template <typename Predicate>
  std::string_view take_while(Predicate accepts) {
    const size_t start = position_;
    while (position_ < text_.size() && accepts(text_[position_])) ++position_;
    return text_.substr(start, position_ - start);
  }

  std::string_view text_;
  size_t position_ = 0;
};

// "TARGET[+-NUMBER]" after the '@' (white space trimmed). A target name may hold '-' and digits
// ("eu-1"), so the margin starts at the first '+', or the first '-' after which the rest is a
// number: "@eu-1" is eu minus 1, "@eu-1-0" is target eu-1. Names are at most 128 characters, so
// at most 129 places are tried, each in one pass: linear in the length of the input.
void parse_relative_threshold(std::string_view text, GateTerms& terms, std::string_view expression,
                              std::string_view context, ErrorKind kind) {
  const auto malformed = [&](const std::string& why) {
    return Error(kind, fmt::format("{} '{}': {}, e.g. 'accuracy>=@production-0.005'", context,
                                   expression, why));
  };
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  size_t end = 0;
  while (end < text.size() && end <= kMaxTargetLength && is_target_char(text[end]) &&
         !(end > 0 && text[end] == '-' && is_unsigned_number(text.substr(end + 1)))) {
    ++end;
  }
  const std::string_view target = text.substr(0, end);
  if (target.empty()) throw malformed("'@' must be followed by a target name");
  try {
    check_name(target, "target");
  } catch (const Error& e) {
    throw malformed(e.what());
  }
  terms.baseline_target = std::string(target);
  terms.threshold = 0;
  if (end == text.size()) return;
  const std::string_view margin = text.substr(end);
  if ((margin[0] != '+' && margin[0] != '-') || !is_unsigned_number(margin.substr(1))) {
    throw malformed(fmt::format("after '@{}' expected nothing or +NUMBER or -NUMBER", target));
  }
  const std::string number(margin);
  try {
    terms.threshold = std::stod(number);  // the form was checked; only its range is left
    if (!std::isfinite(terms.threshold)) throw std::out_of_range("not finite");
  } catch (const std::exception&) {
    throw Error(kind, fmt::format("{} '{}': '{}' is not a number", context, expression, number));
  }
}

}  // namespace

GateTerms parse_gate_terms(std::string_view expression, std::string_view context, ErrorKind kind) {
  Scanner scanner(expression);
  scanner.skip_spaces();
  const std::string metric = scanner.take_metric();
  scanner.skip_spaces();
  const std::string_view comparison = scanner.take_comparison();
  scanner.skip_spaces();
  const auto expected = [&] {
    return Error(kind, fmt::format("{} '{}': expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'",
                                   context, expression));
  };
  if (!metric.empty() && !comparison.empty() && scanner.take('@')) {
    GateTerms terms{metric, std::string(comparison), 0, std::nullopt};
    parse_relative_threshold(scanner.rest(), terms, expression, context, kind);
    return terms;
  }
  const std::string_view number = scanner.take_number();
  scanner.skip_spaces();
  if (metric.empty() || comparison.empty() || number.empty() || !scanner.at_end()) throw expected();
  GateTerms terms{metric, std::string(comparison), 0, std::nullopt};
  const std::string text(number);
  try {
    size_t used = 0;
    terms.threshold = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(terms.threshold)) {
      throw std::invalid_argument("not the whole text");
    }
  } catch (const std::exception&) {
    throw Error(kind, fmt::format("{} '{}': '{}' is not a number", context, expression, text));
  }
  return terms;
}

bool gate_passes(double value, std::string_view comparison, double threshold) {
  if (comparison == ">=") return value >= threshold;
  if (comparison == "<=") return value <= threshold;
  if (comparison == ">") return value > threshold;
  if (comparison == "<") return value < threshold;
  return value == threshold;
}

}  // namespace mlc
