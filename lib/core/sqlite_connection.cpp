#include "sqlite_connection.hpp"

#include <sqlite3.h>

#include <array>

#include <fmt/format.h>

#include "mlc/error.hpp"

namespace mlc::sqlite {
namespace {

// Parallel CI jobs write to one catalogue; a writer waits this long for the lock before giving
// up (MLflow's "database is locked" came from having no timeout at all).
constexpr int kBusyTimeoutMs = 30000;

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view context) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    message = "the catalogue stayed locked by another mlc process past the busy timeout";
  }
  throw Error(ErrorKind::catalog, "catalogue: " + message + " (" + std::string(context) + ")");
}

class Statement final : public sql::StatementImpl {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc, sql.substr(0, 40));
  }
  ~Statement() override { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind_int(int index, int64_t value) override { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind_double(int index, double value) override { check(sqlite3_bind_double(stmt_, index, value)); }
  void bind_text(int index, std::string_view value) override {
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void bind_null(int index) override { check(sqlite3_bind_null(stmt_, index)); }

  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t column_int(int index) const override { return sqlite3_column_int64(stmt_, index); }
  double column_double(int index) const override { return sqlite3_column_double(stmt_, index); }
  bool column_is_null(int index) const override { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }
  std::string column_text(int index) const override {
    const auto* text = sqlite3_column_text(stmt_, index);
    return text == nullptr ? std::string() : reinterpret_cast<const char*>(text);
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) fail(db_, rc, "bind");
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

Connection::Connection(const std::string& file, bool create) : file_(file) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::catalog, "cannot open the catalogue " + file + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    configure();
  } catch (...) {  // a constructor that throws runs no destructor: close the handle here
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

// WAL, durability and foreign keys; fails on a file that cannot be written (a read-only home).
void Connection::configure() {
  if (file_ != ":memory:") {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // WAL: readers never block the writer and the writer never blocks readers. synchronous=FULL
    // makes each commit durable: a registry must not forget a deployment after a power cut.
    execute("PRAGMA journal_mode = WAL");
    execute("PRAGMA synchronous = FULL");
    // Each mlc command is a short-lived process, usually the only connection: by default its
    // close would checkpoint the whole WAL into the database (one more fsync) and delete the WAL
    // file, which the next command recreates. SQLite's automatic checkpoint (every 1000 pages,
    // inside a commit) keeps the WAL bounded instead. Measured: deploy at 10,000 versions,
    // bench/README.md.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  }
  execute("PRAGMA foreign_keys = ON");
}

Connection::~Connection() {
  clear_cache();  // finalized before the connection closes
  sqlite3_close(db_);
}

void Connection::execute(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc, text.substr(0, 40));
}

sql::Statement Connection::prepare(std::string_view sql) {
  return sql::Statement(std::make_unique<Statement>(db_, sql));
}

// BEGIN IMMEDIATE takes the write lock first, so a concurrent writer waits (busy timeout) instead
// of failing at commit.
void Connection::begin_write() { execute("BEGIN IMMEDIATE"); }

// In WAL mode each statement outside a transaction sees the catalogue as it is when it starts.
bool Connection::begin_read() {
  if (sqlite3_get_autocommit(db_) == 0) return false;
  execute("BEGIN DEFERRED");
  return true;
}

void Connection::commit() { execute("COMMIT"); }
void Connection::rollback() { execute("ROLLBACK"); }

std::string Connection::json_text(std::string_view column, std::string_view key) const {
  return fmt::format("json_extract({}, '$.{}')", column, key);
}

int Connection::schema_version() {
  auto statement = prepare("PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int(0));
}

void Connection::set_schema_version(int version) {
  execute("PRAGMA user_version = " + std::to_string(version));
}

std::string Connection::integrity_check() {
  auto integrity = prepare("PRAGMA integrity_check");
  const std::string verdict = integrity.step() ? integrity.column_text(0) : "no answer";
  if (verdict != "ok") return verdict;
  auto references = prepare("PRAGMA foreign_key_check");
  if (references.step()) {
    return fmt::format("table {} row {} refers to a missing row of {}", references.column_text(0),
                       references.column_int(1), references.column_text(2));
  }
  return "ok";
}

// SQLite keeps 'abc' in an INTEGER column as text (mlc would read 0) and bytes as a blob. Every
// table, every column, by its declared type, so that new columns are checked too.
std::vector<std::string> Connection::mistyped_values() {
  struct Kind {
    std::string_view declared, allowed, described;
  };
  static constexpr std::array<Kind, 3> kKinds{{{"INTEGER", "'integer'", "an integer"},
                                               {"REAL", "'real', 'integer'", "a number"},
                                               {"TEXT", "'text'", "text"}}};
  std::vector<std::string> found, tables;
  auto list = prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  while (list.step()) tables.push_back(list.column_text(0));
  for (const auto& table : tables) {
    auto columns = prepare("SELECT name, type FROM pragma_table_info(?)");
    columns.bind(1, table);
    while (columns.step()) {
      const std::string column = columns.column_text(0), declared = columns.column_text(1);
      for (const auto& kind : kKinds) {
        if (kind.declared != declared) continue;
        auto rows = prepare(fmt::format(
            "SELECT rowid, typeof(\"{0}\") FROM \"{1}\" WHERE typeof(\"{0}\") NOT IN ({2}, 'null') ORDER BY rowid",
            column, table, kind.allowed));
        while (rows.step()) {
          found.push_back(fmt::format("the catalogue's table {}, row {}, column {}: a {} value where mlc writes {}",
                                      table, rows.column_int(0), column, rows.column_text(1), kind.described));
        }
      }
    }
  }
  return found;
}

}  // namespace mlc::sqlite
