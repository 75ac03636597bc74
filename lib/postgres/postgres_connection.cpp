// The catalogue on PostgreSQL, through libpq: built as libmlc_postgres.so, which mlc dlopen()s only
// when --catalog or MLC_CATALOG names a server (catalog_connection.cpp), so that libpq and the
// libraries it links cost the SQLite user nothing.
//
// Every query runs with PQexecParams, its values sent as text and typed by the server from where
// they stand. The write lock is one advisory transaction lock per database, the
// counterpart of SQLite's BEGIN IMMEDIATE: writers queue for it in order, and the MAX + 1 version
// numbering reads under it (bench/pg_allocation/FINDINGS.md measures this choice against row locks
// and serializable retries).
#include <libpq-fe.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mlc/catalog_url.hpp"
#include "mlc/error.hpp"
#include "sql.hpp"

namespace mlc::postgres {
namespace {

// How long a writer waits for the write lock, as SQLite's busy timeout (sqlite_connection.cpp).
constexpr const char* kLockTimeout = "30s";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// "host H port P database D", from the connection (which resolved PGHOST and friends), for
// messages: never the password.
std::string where(PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  return fmt::format("host {} port {} database {}", host != nullptr && *host != '\0' ? host : "(default)",
                     port != nullptr && *port != '\0' ? port : "5432", db != nullptr ? db : "");
}

// libpq's message, on one line and without a password.
std::string first_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return without_passwords(text);
}

// SQLite's placeholders (`?` and `?N`) as PostgreSQL's (`$N`), outside quotes; sets `count` to
// the highest position.
std::string numbered_placeholders(std::string_view sql, int& count) {
  std::string out;
  out.reserve(sql.size() + 16);
  count = 0;
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // '' inside a string closes and reopens: the same outcome
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t end = i + 1;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
    const int position = end > i + 1 ? std::atoi(std::string(sql.substr(i + 1, end - i - 1)).c_str()) : next + 1;
    next = std::max(next, position);
    count = std::max(count, position);
    out += '$' + std::to_string(position);
    i = end - 1;
  }
  return out;
}

class Connection;

class Statement final : public sql::StatementImpl {
 public:
  Statement(Connection& connection, std::string_view sql);

  void bind_int(int index, int64_t value) override { slot(index) = std::to_string(value); }
  void bind_double(int index, double value) override {
    if (std::isnan(value)) {
      slot(index) = "NaN";
    } else if (std::isinf(value)) {
      slot(index) = value > 0 ? "Infinity" : "-Infinity";
    } else {
      slot(index) = fmt::format("{:.17g}", value);
    }
  }
  void bind_text(int index, std::string_view value) override { slot(index) = std::string(value); }
  void bind_null(int index) override { slot(index) = std::nullopt; }

  bool step() override;
  void reset() override {
    result_.reset();
    row_ = -1;
    for (auto& value : values_) value.reset();
  }

  int64_t column_int(int index) const override {
    const char* text = value(index);
    if (text[0] == 't' && text[1] == '\0') return 1;  // a boolean expression
    if (text[0] == 'f' && text[1] == '\0') return 0;
    return std::strtoll(text, nullptr, 10);
  }
  double column_double(int index) const override { return std::strtod(value(index), nullptr); }
  std::string column_text(int index) const override { return value(index); }
  bool column_is_null(int index) const override { return !result_ || PQgetisnull(result_.get(), row_, index) != 0; }

 private:
  std::optional<std::string>& slot(int index) {
    if (index < 1 || index > static_cast<int>(values_.size())) {
      throw Error(ErrorKind::internal, fmt::format("catalogue: no parameter {} in {}", index, sql_.substr(0, 60)));
    }
    return values_[static_cast<size_t>(index - 1)];
  }
  const char* value(int index) const {  // "" where SQLite would give 0 or "": no row, no column
    const char* text = result_ ? PQgetvalue(result_.get(), row_, index) : nullptr;
    return text != nullptr ? text : "";
  }

  Connection& connection_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  Result result_;
  int row_ = -1;
};

class Connection final : public sql::Connection {
 public:
  explicit Connection(const char* conninfo) {
    // libpq's parse errors quote the text they could not parse, which may be the password.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo, &parse_error);
    PQfreemem(parse_error);
    if (parsed == nullptr) {
      throw Error(ErrorKind::usage, "--catalog/MLC_CATALOG: libpq cannot parse '" + without_passwords(conninfo) +
                                        "' as a URL or keyword string");
    }
    PQconninfoFree(parsed);
    // expand_dbname: the "dbname" given may be a whole URL or keyword string, as libpq's tools take
    // it; PGHOST, PGPASSFILE and the rest fill in what it leaves out.
    const char* const keys[] = {"dbname", "fallback_application_name", nullptr};
    const char* const values[] = {conninfo, "mlc", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr) throw Error(ErrorKind::catalog, "cannot reach the PostgreSQL catalogue: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = fmt::format("cannot reach the PostgreSQL catalogue at {}: {}", where(conn_),
                                              first_line(PQerrorMessage(conn_)));
      PQfinish(conn_);
      conn_ = nullptr;
      throw Error(ErrorKind::catalog, message);
    }
    // The server's notices (e.g. "relation already exists, skipping") are not mlc's output.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    // The session's settings and the schema version in one round trip: a command's time on
    // PostgreSQL is mostly round trips and the new server process's first look at each table.
    // What a role, database or pooler may have set otherwise: a statement or idle timeout would end
    // the write transaction (and its lock) while deploy copies files under it; fewer float digits
    // would read back other numbers than were written.
    const std::string settings = fmt::format(
        "SET lock_timeout = '{}'; SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; "
        "SET extra_float_digits = 3; SET client_encoding = 'UTF8'; SET client_min_messages = warning",
        kLockTimeout);
    try {
      Result result(PQexec(conn_, (settings + "; SELECT version FROM mlc_schema").c_str()));
      if (result && PQresultStatus(result.get()) == PGRES_TUPLES_OK) {
        startup_version_ = PQntuples(result.get()) == 1 ? std::atoi(PQgetvalue(result.get(), 0, 0)) : 0;
      } else {
        execute(settings);  // no mlc_schema yet: the failed batch took its SETs with it
      }
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~Connection() override {
    clear_cache();
    PQfinish(conn_);
  }

  sql::Backend backend() const override { return sql::Backend::postgresql; }
  std::string describe() const override { return "PostgreSQL " + where(conn_); }

  void execute(std::string_view sql) override {
    check(Result(PQexec(conn_, std::string(sql).c_str())), sql);
  }
  sql::Statement prepare(std::string_view sql) override {
    return sql::Statement(std::make_unique<Statement>(*this, sql));
  }

  // One key per database, whatever schema the tables resolve to through search_path: two users
  // whose search_path differs but finds the same tables must queue for one lock. READ COMMITTED
  // whatever the server's default, so that the statements after the wait see what the writer
  // before committed (MAX + 1 reads it). A lock that times out leaves no transaction open.
  void begin_write() override {
    execute("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE");
    try {
      execute("SELECT pg_advisory_xact_lock(7884786308959269985)");  // 'mlc_cata' in ASCII
    } catch (...) {
      Result(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }
  bool begin_read() override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
    execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    return true;
  }
  void commit() override { execute("COMMIT"); }
  void rollback() override { execute("ROLLBACK"); }

  std::string json_text(std::string_view column, std::string_view key) const override {
    return fmt::format("({}::jsonb ->> '{}')", column, key);
  }
  int schema_version() override {
    if (startup_version_) {  // read when the connection started: the unlocked first look
      const int version = *startup_version_;
      startup_version_.reset();
      return version;
    }
    // A scan of pg_class, not to_regclass(): the name lookup's cache is not refreshed by waiting
    // for the advisory lock, so after another process created the tables it still said "none".
    auto exists = prepare("SELECT count(*) FROM pg_catalog.pg_class "
                          "WHERE relname = 'mlc_schema' AND relnamespace = "
                          "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())");
    exists.step();
    if (exists.column_int(0) == 0) return 0;
    auto version = prepare("SELECT version FROM mlc_schema");
    return version.step() ? static_cast<int>(version.column_int(0)) : 0;
  }
  void set_schema_version(int version) override {
    execute(fmt::format("CREATE TABLE IF NOT EXISTS mlc_schema (version INTEGER NOT NULL); "
                        "DELETE FROM mlc_schema; INSERT INTO mlc_schema (version) VALUES ({})",
                        version));
  }
  // PostgreSQL checks types, keys and references on every write; what is left to check is that the
  // triggers keeping history and the target log append-only are still there and enabled.
  std::string integrity_check() override {
    auto triggers = prepare(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) "
        "AND t.tgenabled <> 'D' "
        "AND t.tgname IN ('history_is_append_only', 'history_is_append_only_truncate', "
        "'target_log_is_append_only', 'target_log_is_append_only_truncate')");
    triggers.step();
    if (triggers.column_int(0) != 4) {
      return "a trigger that keeps history or target_log append-only is missing or disabled";
    }
    return "ok";
  }
  std::vector<std::string> mistyped_values() override { return {}; }
  void follow_explicit_ids(std::string_view table) override {
    execute(fmt::format("SELECT setval(pg_get_serial_sequence('{0}', 'id'), "
                        "(SELECT COALESCE(MAX(id), 0) + 1 FROM {0}), false)",
                        table));
  }

  // Throws Error(catalog) unless `result` succeeded.
  Result check(Result result, std::string_view sql) const {
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw Error(ErrorKind::catalog, fmt::format("lost the connection to the PostgreSQL catalogue at {}: {}",
                                                  where(conn_), first_line(PQerrorMessage(conn_))));
    }
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr && std::string_view(state) == "55P03") {
      throw Error(ErrorKind::catalog, "catalogue: the catalogue stayed locked by another mlc process past the "
                                      "lock timeout (" + std::string(kLockTimeout) + ")");
    }
    const std::string message = first_line(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_));
    throw Error(ErrorKind::catalog, fmt::format("catalogue: {} ({})", message, sql.substr(0, 40)));
  }

  PGconn* handle() const { return conn_; }

 private:
  PGconn* conn_ = nullptr;
  std::optional<int> startup_version_;
};

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
  int count = 0;
  sql_ = numbered_placeholders(sql, count);
  values_.resize(static_cast<size_t>(count));
}

bool Statement::step() {
  if (!result_) {
    std::vector<const char*> pointers;
    pointers.reserve(values_.size());
    for (const auto& value : values_) pointers.push_back(value ? value->c_str() : nullptr);
    result_ = connection_.check(Result(PQexecParams(connection_.handle(), sql_.c_str(),
                                                    static_cast<int>(pointers.size()), nullptr,
                                                    pointers.data(), nullptr, nullptr, 0)),
                                sql_);
    row_ = -1;
  }
  return ++row_ < PQntuples(result_.get());
}

}  // namespace
}  // namespace mlc::postgres

// The entry point catalog_connection.cpp looks up. Throws Error(catalog) if the server cannot be
// reached.
extern "C" __attribute__((visibility("default"))) mlc::sql::Connection* mlc_postgres_connect(const char* conninfo) {
  return new mlc::postgres::Connection(conninfo);
}
