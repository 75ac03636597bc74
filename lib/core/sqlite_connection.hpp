// The catalogue on SQLite: one file in MLC_HOME (WAL mode, busy timeout, foreign keys on), the
// single-machine default. RAII over SQLite's C API; SQLite's errors become Error(catalog), and
// SQLITE_BUSY after the busy timeout says plainly that another process held the catalogue too long.
#pragma once

#include <string>

#include "sql.hpp"

struct sqlite3;

namespace mlc::sqlite {

class Connection final : public sql::Connection {
 public:
  // Opens (or, with create = true, creates) the database file with the catalogue's settings.
  // ":memory:" opens an empty catalogue that lives as long as the connection.
  Connection(const std::string& file, bool create);
  ~Connection() override;

  sql::Backend backend() const override { return sql::Backend::sqlite; }
  std::string describe() const override { return file_; }
  void execute(std::string_view sql) override;
  sql::Statement prepare(std::string_view sql) override;
  void begin_write() override;
  bool begin_read() override;
  void commit() override;
  void rollback() override;
  std::string json_text(std::string_view column, std::string_view key) const override;
  int schema_version() override;
  void set_schema_version(int version) override;
  std::string integrity_check() override;
  std::vector<std::string> mistyped_values() override;

 private:
  void configure();

  sqlite3* db_ = nullptr;
  std::string file_;
};

}  // namespace mlc::sqlite
