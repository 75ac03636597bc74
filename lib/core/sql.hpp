// The catalogue's connection to its database, private to the catalogue: the one seam between
// catalog.cpp (the SQL both databases understand) and a backend (sqlite_connection.cpp in the
// binary, postgres_connection.cpp in libmlc_postgres.so). What the two databases spell
// differently (placeholders, the write lock, JSON fields, the schema version, integrity checks)
// is answered here by the backend, so that no query and no operation knows which one it talks to.
//
// SQL handed to a Connection uses SQLite's placeholders: `?` (the next position) or `?N` (position
// N, which may repeat); PostgreSQL's backend rewrites them to `$N`. Every failure is thrown as
// Error(catalog) with the database's own message.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlc::sql {

enum class Backend { sqlite, postgresql };

// One prepared query of a backend. Positions are 1-based; a position left unbound is NULL, and
// reset() unbinds every position.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void bind_int(int index, int64_t value) = 0;
  virtual void bind_double(int index, double value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_null(int index) = 0;
  virtual bool step() = 0;   // runs the query on the first call; true while a row is available
  virtual void reset() = 0;  // ready to bind and run again
  virtual int64_t column_int(int index) const = 0;
  virtual double column_double(int index) const = 0;
  virtual std::string column_text(int index) const = 0;  // "" for NULL
  virtual bool column_is_null(int index) const = 0;
};

class Statement {
 public:
  explicit Statement(std::unique_ptr<StatementImpl> impl) : impl_(std::move(impl)) {}

  // Binds by 1-based position; returns *this so binds chain.
  Statement& bind(int index, int64_t value) { return impl_->bind_int(index, value), *this; }
  Statement& bind(int index, double value) { return impl_->bind_double(index, value), *this; }
  Statement& bind(int index, std::string_view value) { return impl_->bind_text(index, value), *this; }
  Statement& bind_null(int index) { return impl_->bind_null(index), *this; }
  Statement& bind_nullable(int index, const std::optional<std::string>& value) {  // nullopt -> NULL
    return value ? bind(index, std::string_view(*value)) : bind_null(index);
  }

  bool step() { return impl_->step(); }
  void run() {  // steps to completion, for statements without results
    while (step()) {
    }
  }
  void reset() { impl_->reset(); }

  int64_t column_int(int index) const { return impl_->column_int(index); }
  double column_double(int index) const { return impl_->column_double(index); }
  std::string column_text(int index) const { return impl_->column_text(index); }
  bool column_is_null(int index) const { return impl_->column_is_null(index); }

 private:
  std::unique_ptr<StatementImpl> impl_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Backend backend() const = 0;
  // What the messages name: the SQLite file, or PostgreSQL's host, port and database (never a
  // password).
  virtual std::string describe() const = 0;

  virtual void execute(std::string_view sql) = 0;  // one or more statements, no results
  virtual Statement prepare(std::string_view sql) = 0;

  // The statement for `sql`, prepared once per connection: for the queries run once per version
  // read (list at 10,000 versions would prepare them hundreds of times). The lease resets it when
  // it goes out of scope: a statement left mid-step would hold its read snapshot open, and a
  // later write transaction on a stale snapshot fails at once. Do not hold two leases of the same
  // SQL at once.
  class Lease;
  Lease cached(const std::string& sql);

  // The catalogue's one write lock, for a whole transaction: a concurrent writer waits for it (up
  // to the busy timeout) rather than failing at commit, and version numbers (MAX + 1) are safe.
  virtual void begin_write() = 0;
  // One read snapshot for several statements. False, and nothing begun, when a transaction is
  // already open.
  virtual bool begin_read() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;

  // --- what the two databases spell differently ---
  // An SQL expression for the text of `key` in the JSON object stored as text in `column`.
  virtual std::string json_text(std::string_view column, std::string_view key) const = 0;
  // The catalogue schema version stored in the database (0: none yet).
  virtual int schema_version() = 0;
  // "ok", or the database's first complaint about its own files and references.
  virtual std::string integrity_check() = 0;
  // Values stored with another type than their column declares (SQLite's columns take any
  // type); one line each naming table, row and column. [] where the database enforces types.
  virtual std::vector<std::string> mistyped_values() = 0;
  // After rows were inserted into `table` with explicit ids (catalog copy): the ids the database
  // gives from then on follow the highest one. SQLite's INTEGER PRIMARY KEY does so by itself.
  virtual void follow_explicit_ids(std::string_view /*table*/) {}
  // Records `version` as the catalogue's schema version, inside the write transaction that
  // created or upgraded its tables (catalog_schema.cpp).
  virtual void set_schema_version(int version) = 0;

 protected:
  // Backends call this first in their destructor: statements go before the connection they use.
  void clear_cache() { cache_.clear(); }

 private:
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

class Connection::Lease {
 public:
  explicit Lease(Statement& statement) : statement_(&statement) {}
  Lease(Lease&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (statement_ == nullptr) return;
    try {
      statement_->reset();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a reset that fails leaves nothing to undo
    }
  }
  Statement& operator*() const { return *statement_; }
  Statement* operator->() const { return statement_; }

 private:
  Statement* statement_;
};

inline Connection::Lease Connection::cached(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end()) found = cache_.emplace(sql, std::make_unique<Statement>(prepare(sql))).first;
  return Lease(*found->second);
}

}  // namespace mlc::sql
