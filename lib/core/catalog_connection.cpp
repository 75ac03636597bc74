#include "catalog_connection.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "bundled_library.hpp"
#include "mlc/catalog_url.hpp"
#include "mlc/environment.hpp"
#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "sqlite_connection.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

std::unique_ptr<sql::Connection> open_sqlite(const Home& home, Catalog::Mode mode) {
  const fs::path file = home.catalog_file();
  // SQLite would open (and write) whatever a link there points at; its own SQLITE_OPEN_NOFOLLOW
  // would also refuse a home that is itself a link, which the user may choose.
  for (const char* suffix : {"", "-wal", "-shm"}) check_inside_home(home, file.string() + suffix);
  if (mode == Catalog::Mode::existing && !fs::exists(file)) {
    // Nothing recorded yet: an empty in-memory catalogue answers every read without creating
    // MLC_HOME as a side effect of `mlc list`.
    return std::make_unique<sqlite::Connection>(":memory:", true);
  }
  if (mode == Catalog::Mode::create) create_home_layout(home);
  return std::make_unique<sqlite::Connection>(file.string(), mode == Catalog::Mode::create);
}

// libpq and what it links (24 libraries: TLS, Kerberos, LDAP) would cost every command start-up
// time; only a command that talks to PostgreSQL loads them.
std::unique_ptr<sql::Connection> open_postgresql(const Home& home, Catalog::Mode mode) {
  using Entry = sql::Connection* (*)(const char* conninfo);
  const LibraryEntry library = bundled_library_entry("the PostgreSQL catalogue library", "libmlc_postgres.so",
                                                     "mlc_postgres_connect",
                                                     environment_variable("MLC_POSTGRES_LIB"), true);
  std::unique_ptr<sql::Connection> connection(reinterpret_cast<Entry>(library.symbol)(home.catalog.c_str()));
  if (mode == Catalog::Mode::create) create_home_layout(home);
  return connection;
}

struct Scheme {
  std::string_view prefix;
  std::unique_ptr<sql::Connection> (*open)(const Home&, Catalog::Mode);
};

constexpr std::array<Scheme, 2> kSchemes{{
    {"postgresql://", open_postgresql},
    {"postgres://", open_postgresql},
}};

}  // namespace

std::unique_ptr<sql::Connection> open_catalog_connection(const Home& home, Catalog::Mode mode) {
  const std::string& where = home.catalog;
  if (where.empty()) return open_sqlite(home, mode);
  for (const auto& scheme : kSchemes) {
    if (where.rfind(scheme.prefix, 0) == 0) return scheme.open(home, mode);
  }
  // libpq's keyword form: "host=db.example dbname=mlc", "dbname=mlc".
  if (where.find("://") == std::string::npos && where.find('=') != std::string::npos) {
    return open_postgresql(home, mode);
  }
  throw Error(ErrorKind::usage,
              "--catalog/MLC_CATALOG: '" + without_passwords(where) +
                  "' is no catalogue mlc knows: give a postgresql:// URL or libpq's keyword form "
                  "(host=... dbname=...), or nothing for the SQLite file in MLC_HOME");
}

std::string without_passwords(std::string_view text) {
  std::string result(text);
  // A URL's userinfo: scheme://user:secret@host. (Hand-written: libstdc++'s std::regex recurses
  // once per character and an argument can be long.)
  // The userinfo ends at the last '@' before the query: a password may hold an unencoded '/'.
  for (size_t scheme = result.find("://"); scheme != std::string::npos; scheme = result.find("://", scheme + 3)) {
    const size_t authority = scheme + 3;
    const size_t end = std::min(result.find_first_of("?# \t\n", authority), result.size());
    const size_t at = result.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < authority) continue;
    const size_t colon = result.find(':', authority);
    if (colon == std::string::npos || colon > at) continue;
    result.replace(colon + 1, at - colon - 1, "***");
  }
  // password=secret (and sslpassword=) in a URL's query or in libpq's keyword form, quoted
  // ('sec ret', with \' and \\ escapes) or not; also as a flag's value (--catalog=password=...).
  const auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); };
  constexpr std::string_view kKey = "password";
  for (size_t i = 0; i + kKey.size() <= result.size(); ++i) {
    const bool after_ssl = i >= 3 && lower(result[i - 3]) == 's' && lower(result[i - 2]) == 's' &&
                           lower(result[i - 1]) == 'l';
    const size_t word = after_ssl ? i - 3 : i;
    const bool starts_word =
        word == 0 || std::string_view(" \t\n?&=").find(result[word - 1]) != std::string_view::npos;
    bool matches = starts_word;
    for (size_t k = 0; matches && k < kKey.size(); ++k) matches = lower(result[i + k]) == kKey[k];
    if (!matches) continue;
    size_t value = i + kKey.size();
    while (value < result.size() && (result[value] == ' ' || result[value] == '\t')) ++value;
    if (value >= result.size() || result[value] != '=') continue;
    ++value;
    while (value < result.size() && (result[value] == ' ' || result[value] == '\t')) ++value;
    size_t end = value;
    if (end < result.size() && result[end] == '\'') {
      for (++end; end < result.size() && result[end] != '\''; ++end) {
        if (result[end] == '\\') ++end;
      }
      end = std::min(end + 1, result.size());
    } else {
      while (end < result.size() && std::string_view(" \t\n&#").find(result[end]) == std::string_view::npos) ++end;
    }
    result.replace(value, end - value, "***");
    i = value + 2;
  }
  return result;
}

}  // namespace mlc
