// A thin RAII layer over SQLite's C API, private to the catalogue. Every failure becomes
// Error(catalog) with SQLite's own message, except SQLITE_BUSY after the busy timeout, which says
// plainly that another process held the catalogue too long.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlc::sqlite {

class Statement;

class Database {
 public:
  // Opens (or, with create = true, creates) the database file. ":memory:" works too.
  Database(const std::string& file, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database(Database&& other) noexcept : db_(other.db_), cache_(std::move(other.cache_)) {
    other.db_ = nullptr;
  }

  void execute(std::string_view sql);  // one or more statements, no results
  Statement prepare(std::string_view sql);
  // The statement for `sql`, prepared once per connection: for the queries run once per version
  // read (list at 10,000 versions would prepare them hundreds of times). The lease resets it when
  // it goes out of scope: a statement left mid-step would hold its read snapshot open, and a
  // later BEGIN IMMEDIATE on a stale snapshot fails at once with SQLITE_BUSY, busy timeout or
  // not. Do not hold two leases of the same SQL at once.
  class Lease;
  Lease cached(const std::string& sql);
  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

  // Binds by 1-based position; returns *this so binds chain.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_nullable(int index, const std::optional<std::string>& value);  // nullopt -> NULL

  bool step();  // true while a row is available
  void run();   // steps to completion, for statements without results
  void reset(); // ready to bind and run again

  int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;  // "" for NULL
  bool column_is_null(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database::Lease {
 public:
  explicit Lease(Statement& statement) : statement_(&statement) {}
  Lease(Lease&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (statement_ != nullptr) statement_->reset();
  }
  Statement& operator*() const { return *statement_; }
  Statement* operator->() const { return statement_; }

 private:
  Statement* statement_;
};

}  // namespace mlc::sqlite
