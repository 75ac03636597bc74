#include <ctime>
#include <regex>

#include <fmt/format.h>

#include "mlc/catalog.hpp"
#include "mlc/error.hpp"

namespace mlc {

std::string parse_utc_time(const std::string& text, const std::string& what) {
  // 2026-11-01, 2026-11-01T12:00, 2026-11-01T12:00:00Z, 2026-11-01T12:00:00.250+02:00, ...
  static const std::regex kTime(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$)");
  std::smatch match;
  auto fail = [&] {
    return Error(ErrorKind::usage,
                 fmt::format("{} '{}': expected an ISO 8601 time such as 2026-11-01T12:00:00Z", what, text));
  };
  if (!std::regex_match(text, match, kTime)) throw fail();
  if (match[4].matched && !match[8].matched) {
    throw Error(ErrorKind::usage,
                fmt::format("{} '{}': say which time zone, e.g. 'Z' for UTC or '+02:00'", what, text));
  }
  std::tm parts{};
  parts.tm_year = std::stoi(match[1]) - 1900;
  parts.tm_mon = std::stoi(match[2]) - 1;
  parts.tm_mday = std::stoi(match[3]);
  parts.tm_hour = match[4].matched ? std::stoi(match[4]) : 0;
  parts.tm_min = match[5].matched ? std::stoi(match[5]) : 0;
  parts.tm_sec = match[6].matched ? std::stoi(match[6]) : 0;
  const std::tm given = parts;
  std::time_t seconds = ::timegm(&parts);
  if (parts.tm_mday != given.tm_mday || parts.tm_mon != given.tm_mon || given.tm_hour > 23 ||
      given.tm_min > 59 || given.tm_sec > 59) {
    throw fail();  // timegm normalised it: 2026-02-30, 25:00 and the like do not exist
  }
  if (match[8].matched && match[8] != "Z") {
    const std::string offset = match[8];
    const int minutes = std::stoi(offset.substr(1, 2)) * 60 + std::stoi(offset.substr(4, 2));
    seconds -= (offset[0] == '+' ? 1 : -1) * minutes * 60;
  }
  int millis = 0;
  if (match[7].matched) millis = std::stoi((match[7].str() + "00").substr(0, 3));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", out, millis);
}

}  // namespace mlc
