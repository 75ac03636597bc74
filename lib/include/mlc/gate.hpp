// The grammar of a quality gate, "METRIC OP NUMBER" ("accuracy>=0.85"), as `mlc eval --gate`
// writes it. A hand-written scanner: std::regex matched it by recursion, a stack frame per
// character, and a 30,000-character metric name overflowed the stack (SIGSEGV).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlc/error.hpp"

namespace mlc {

struct GateTerms {
  std::string metric;      // NAME, or NAME[CLASS] for a per-class metric (see below)
  std::string comparison;  // ">=", "<=", "==", ">" or "<"
  // NUMBER; for a relative gate the margin (0 when none), added to the baseline's value.
  double threshold = 0;    // finite
  // A relative gate's TARGET ("accuracy>=@production-0.005"): the threshold is the metric of the
  // version that target holds, on the same data, plus `threshold`. nullopt: an absolute gate.
  std::optional<std::string> baseline_target;
};

// Parses `expression`. METRIC is NAME ([A-Za-z_][A-Za-z0-9_]*), NAME[CLASS] or NAME.CLASS: the
// per-class metrics an evaluation records ("recall[Shirt]"). In brackets CLASS is one or more
// characters other than ']' (spaces and '/' included: "recall[T-shirt/top]"); after a '.' it is
// one or more characters other than white space, '<', '>', '=', '[' and ']'. Both forms come back
// as NAME[CLASS]. White space (" \t\n\v\f\r") may surround each term; NUMBER is written with
// digits, '.', 'e', 'E', '+' and '-' and read as a double. Any length of input is safe (no
// recursion).
//
// A relative gate writes @TARGET[+NUMBER|-NUMBER] for NUMBER: "f1_macro>@production",
// "accuracy>=@production-0.005". TARGET is a target name (check_name); NUMBER here is unsigned
// (DIGITS[.DIGITS][e[+-]DIGITS]). As names may hold '-' and digits, the margin starts at the
// first '+', or at the first '-' after which the rest is such a number: "@eu-1" is target eu
// minus 1; "@eu-1-0" or "@eu-1+0" is target eu-1.
//
// Throws Error(kind):
//   "CONTEXT 'EXPRESSION': expected METRIC OP NUMBER, e.g. 'accuracy>=0.85'" for any other form;
//   "CONTEXT 'EXPRESSION': 'NUMBER' is not a number" when NUMBER does not read as a finite double
//   (1.2.3, 1e999);
//   "CONTEXT 'EXPRESSION': WHY, e.g. 'accuracy>=@production-0.005'" for a malformed @TARGET:
//   no name, a name check_name refuses (its message), or something else after the name.
GateTerms parse_gate_terms(std::string_view expression, std::string_view context, ErrorKind kind);

// Whether `value` passes the gate: value COMPARISON threshold (a NaN value passes none).
bool gate_passes(double value, std::string_view comparison, double threshold);

}  // namespace mlc
