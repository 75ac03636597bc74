#include "mlc/gate.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

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

}  // namespace

GateTerms parse_gate_terms(std::string_view expression, std::string_view context, ErrorKind kind) {
  Scanner scanner(expression);
  scanner.skip_spaces();
  const std::string metric = scanner.take_metric();
  scanner.skip_spaces();
  const std::string_view comparison = scanner.take_comparison();
  scanner.skip_spaces();
  const std::string_view number = scanner.take_number();
  scanner.skip_spaces();
  if (metric.empty() || comparison.empty() || number.empty() || !scanner.at_end()) {
    throw Error(kind, fmt::format("{} '{}': expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'",
                                  context, expression));
  }
  GateTerms terms{metric, std::string(comparison), 0};
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
