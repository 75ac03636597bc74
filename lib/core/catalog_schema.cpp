#include "catalog_schema.hpp"

#include <string>

#include "mlc/error.hpp"
#include "sqlite.hpp"

namespace mlc {
namespace {

// Version 1. States are checked by the database too, so that no writer can store a state the
// lifecycle does not know.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE models (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE versions (
  id                 INTEGER PRIMARY KEY,
  model_id           INTEGER NOT NULL REFERENCES models(id),
  version            INTEGER NOT NULL CHECK (version >= 1),
  state              TEXT NOT NULL CHECK (state IN
                       ('trained','evaluated','exported','registered','deployed','retired')),
  created_at         TEXT NOT NULL,
  description        TEXT NOT NULL DEFAULT '',
  config             TEXT NOT NULL,
  model_info         TEXT NOT NULL,
  lineage            TEXT NOT NULL,
  checkpoint_sha256  TEXT NOT NULL,
  model_sha256       TEXT,
  manifest_sha256    TEXT,
  train_seconds      REAL NOT NULL,
  samples_per_second REAL NOT NULL,
  train_samples      INTEGER NOT NULL,
  validation_samples INTEGER NOT NULL,
  UNIQUE (model_id, version)
);
CREATE TABLE version_inputs (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  role       TEXT NOT NULL,
  path       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  PRIMARY KEY (version_id, role)
);
CREATE TABLE epoch_metrics (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  epoch      INTEGER NOT NULL,
  name       TEXT NOT NULL,
  value      REAL NOT NULL,
  PRIMARY KEY (version_id, epoch, name)
);
CREATE TABLE evaluations (
  id         INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  at         TEXT NOT NULL,
  samples    INTEGER NOT NULL,
  passed     INTEGER NOT NULL,
  gates      TEXT NOT NULL,
  data_files TEXT NOT NULL
);
CREATE TABLE evaluation_metrics (
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  name          TEXT NOT NULL,
  value         REAL NOT NULL,
  PRIMARY KEY (evaluation_id, name)
);
CREATE TABLE tags (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
);
CREATE TABLE deployments (
  model_id    INTEGER NOT NULL REFERENCES models(id),
  target      TEXT NOT NULL,
  version_id  INTEGER NOT NULL REFERENCES versions(id),
  deployed_at TEXT NOT NULL,
  PRIMARY KEY (model_id, target)
);
CREATE TABLE history (
  id         INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  at         TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL,
  target     TEXT NOT NULL,
  command    TEXT NOT NULL
);
CREATE INDEX history_by_version ON history(version_id, id);
CREATE INDEX versions_by_state ON versions(state);
CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
)sql";

int read_user_version(sqlite::Database& db) {
  auto statement = db.prepare("PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int(0));
}

}  // namespace

void prepare_catalog_schema(sqlite::Database& db) {
  if (read_user_version(db) == kCatalogSchemaVersion) return;  // the common case: no lock taken
  db.execute("BEGIN IMMEDIATE");
  try {
    const int found = read_user_version(db);  // again, under the lock: another process may have won
    if (found > kCatalogSchemaVersion) {
      throw Error(ErrorKind::catalog,
                  "the catalogue has schema version " + std::to_string(found) +
                      ", made by a newer mlc; this mlc understands up to version " +
                      std::to_string(kCatalogSchemaVersion) + ": upgrade mlc");
    }
    if (found == 0) db.execute(kSchemaV1);
    db.execute("PRAGMA user_version = " + std::to_string(kCatalogSchemaVersion));
    db.execute("COMMIT");
  } catch (...) {
    db.execute("ROLLBACK");
    throw;
  }
}

}  // namespace mlc
