#include "catalog_schema.hpp"

#include <optional>
#include <string>
#include <vector>

#include "mlc/error.hpp"
#include "sql.hpp"

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

// Version 2 (issue 4): versions registered from a TorchScript file trained elsewhere have no
// checkpoint, config or training figures, so those columns become nullable (SQLite can only do that
// by rebuilding the table); an origin column says which kind a version is. History rows gain the
// host, an event kind (alias and metadata changes are recorded beside transitions) and a JSON
// detail. New tables: aliases, and target_log, the append-only record of what each target held
// (rollback walks it, history --at reads it). Evaluations gain an origin: metrics stated in the
// manifest of a registered artifact are recorded as such.
constexpr const char* kMigrationV1ToV2 = R"sql(
CREATE TABLE versions_v2 (
  id                  INTEGER PRIMARY KEY,
  model_id            INTEGER NOT NULL REFERENCES models(id),
  version             INTEGER NOT NULL CHECK (version >= 1),
  state               TEXT NOT NULL CHECK (state IN
                        ('trained','evaluated','exported','registered','deployed','retired')),
  origin              TEXT NOT NULL DEFAULT 'train' CHECK (origin IN ('train','artifact')),
  created_at          TEXT NOT NULL,
  description         TEXT NOT NULL DEFAULT '',
  config              TEXT,
  model_info          TEXT NOT NULL,
  lineage             TEXT NOT NULL,
  checkpoint_sha256   TEXT,
  model_sha256        TEXT,
  manifest_sha256     TEXT,
  artifacts_purged_at TEXT,
  train_seconds       REAL,
  samples_per_second  REAL,
  train_samples       INTEGER,
  validation_samples  INTEGER,
  UNIQUE (model_id, version),
  CHECK (origin = 'artifact' OR (config IS NOT NULL AND checkpoint_sha256 IS NOT NULL AND
         train_seconds IS NOT NULL AND samples_per_second IS NOT NULL AND
         train_samples IS NOT NULL AND validation_samples IS NOT NULL)),
  CHECK (origin = 'train' OR (model_sha256 IS NOT NULL AND manifest_sha256 IS NOT NULL))
);
INSERT INTO versions_v2 (id, model_id, version, state, origin, created_at, description, config,
                         model_info, lineage, checkpoint_sha256, model_sha256, manifest_sha256,
                         train_seconds, samples_per_second, train_samples, validation_samples)
  SELECT id, model_id, version, state, 'train', created_at, description, config, model_info,
         lineage, checkpoint_sha256, model_sha256, manifest_sha256, train_seconds,
         samples_per_second, train_samples, validation_samples
  FROM versions;
DROP TABLE versions;
ALTER TABLE versions_v2 RENAME TO versions;
CREATE INDEX versions_by_state ON versions(state);

ALTER TABLE history ADD COLUMN event TEXT NOT NULL DEFAULT 'transition'
  CHECK (event IN ('transition','alias','metadata','purge'));
ALTER TABLE history ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE history ADD COLUMN detail TEXT;

ALTER TABLE evaluations ADD COLUMN origin TEXT NOT NULL DEFAULT 'eval'
  CHECK (origin IN ('eval','manifest'));
CREATE INDEX evaluations_by_version ON evaluations(version_id, id);
CREATE INDEX deployments_by_version ON deployments(version_id);

CREATE TABLE aliases (
  model_id   INTEGER NOT NULL REFERENCES models(id),
  alias      TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  set_at     TEXT NOT NULL,
  PRIMARY KEY (model_id, alias)
);
CREATE INDEX aliases_by_version ON aliases(version_id);

CREATE TABLE target_log (
  id         INTEGER PRIMARY KEY,
  model_id   INTEGER NOT NULL REFERENCES models(id),
  target     TEXT NOT NULL,
  version_id INTEGER REFERENCES versions(id),
  kind       TEXT NOT NULL CHECK (kind IN ('deploy','rollback','remove')),
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  host       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  command    TEXT NOT NULL,
  CHECK ((kind = 'remove') = (version_id IS NULL))
);
CREATE INDEX target_log_by_target ON target_log(model_id, target, id);
CREATE INDEX target_log_by_version ON target_log(version_id, target);
CREATE TRIGGER target_log_is_append_only_update BEFORE UPDATE ON target_log
  BEGIN SELECT RAISE(ABORT, 'target_log is append-only'); END;
CREATE TRIGGER target_log_is_append_only_delete BEFORE DELETE ON target_log
  BEGIN SELECT RAISE(ABORT, 'target_log is append-only'); END;
)sql";

// Version 3 (issue 10): an evaluation's results that are not scalars, as JSON: for a classifier
// {"class_names": [...], "confusion_matrix": [[...]]}; NULL for regression, for a manifest's
// metrics and for evaluations made before.
constexpr const char* kMigrationV2ToV3 = R"sql(
ALTER TABLE evaluations ADD COLUMN details TEXT;
)sql";

// Version 4 (issue 10): evaluations record what data they measured (data_fingerprint: the test
// split's, data::Splits::test_fingerprint), whether it was the version's own test split, and each
// sample's outcome (for mlc compare's paired test); every evaluation is a history event. NULL in
// the new columns: an evaluation made before, whose data is not known well enough to compare it
// or to satisfy a policy. The history table is rebuilt because its CHECK names the events; its
// append-only triggers go first so that nothing deletes its rows one by one.
constexpr const char* kMigrationV3ToV4 = R"sql(
ALTER TABLE evaluations ADD COLUMN data_fingerprint TEXT;
ALTER TABLE evaluations ADD COLUMN on_test_split INTEGER;
ALTER TABLE evaluations ADD COLUMN outcomes TEXT;
CREATE INDEX evaluations_by_data ON evaluations(version_id, data_fingerprint);

CREATE TABLE history_v4 (
  id         INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  at         TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL,
  target     TEXT NOT NULL,
  command    TEXT NOT NULL,
  event      TEXT NOT NULL DEFAULT 'transition'
    CHECK (event IN ('transition','alias','metadata','purge','evaluation')),
  host       TEXT NOT NULL DEFAULT '',
  detail     TEXT
);
INSERT INTO history_v4 (id, version_id, at, from_state, to_state, actor, reason, target, command,
                        event, host, detail)
  SELECT id, version_id, at, from_state, to_state, actor, reason, target, command, event, host, detail
  FROM history;
DROP TRIGGER history_is_append_only_update;
DROP TRIGGER history_is_append_only_delete;
DROP TABLE history;
ALTER TABLE history_v4 RENAME TO history;
CREATE INDEX history_by_version ON history(version_id, id);
CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
)sql";

// Version 5 (issue 9): a version's optimised variants (mlc export --variant), each its own
// TorchScript file and manifest in the store, with what one run measured on the version's test
// split: fp32 and variant are JSON objects {"metrics": {NAME: VALUE}, "size_bytes",
// "latency_batch1_ms", "latency_batch64_ms"} (VariantMeasurement), the first for the plain export,
// the second for the variant; details is the backend's account of what it did (a JSON object).
// Variants are never deleted (like evaluations); gc --purge-retired deletes their files with the
// version's. Recording one is a history event: the history table is rebuilt as in version 4.
// A deployment and each target-log row say which variant of the version stands (mlc deploy
// --variant; rollback puts back the pair): variant_id, NULL for the plain fp32 export, as every
// row made before has. Schema 5 was still unreleased when these two columns were added, so they
// belong to this step rather than to a version 6 (no catalogue of 5 without them exists outside
// development homes).
constexpr const char* kMigrationV4ToV5 = R"sql(
CREATE TABLE variants (
  id               INTEGER PRIMARY KEY,
  version_id       INTEGER NOT NULL REFERENCES versions(id),
  name             TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('fp16','int8')),
  format           TEXT NOT NULL,
  model_sha256     TEXT NOT NULL,
  manifest_sha256  TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  details          TEXT NOT NULL,
  samples          INTEGER NOT NULL,
  data_fingerprint TEXT NOT NULL,
  fp32             TEXT NOT NULL,
  variant          TEXT NOT NULL,
  UNIQUE (version_id, name)
);
ALTER TABLE deployments ADD COLUMN variant_id INTEGER REFERENCES variants(id);
ALTER TABLE target_log ADD COLUMN variant_id INTEGER REFERENCES variants(id);

CREATE TABLE history_v5 (
  id         INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  at         TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL,
  target     TEXT NOT NULL,
  command    TEXT NOT NULL,
  event      TEXT NOT NULL DEFAULT 'transition'
    CHECK (event IN ('transition','alias','metadata','purge','evaluation','variant')),
  host       TEXT NOT NULL DEFAULT '',
  detail     TEXT
);
INSERT INTO history_v5 (id, version_id, at, from_state, to_state, actor, reason, target, command,
                        event, host, detail)
  SELECT id, version_id, at, from_state, to_state, actor, reason, target, command, event, host, detail
  FROM history;
DROP TRIGGER history_is_append_only_update;
DROP TRIGGER history_is_append_only_delete;
DROP TABLE history;
ALTER TABLE history_v5 RENAME TO history;
CREATE INDEX history_by_version ON history(version_id, id);
CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
)sql";

// Version 6 (issue 9): variants.kind admits 'prune' and 'onnx'; an ONNX variant's measurement has
// null latencies and no metrics (mlc cannot run it). SQLite cannot change a CHECK constraint in
// place, so the table is rebuilt: deployments and target_log name it as "variants", which the
// rebuilt table is called again once the old one is gone.
constexpr const char* kMigrationV5ToV6 = R"sql(
CREATE TABLE variants_v6 (
  id               INTEGER PRIMARY KEY,
  version_id       INTEGER NOT NULL REFERENCES versions(id),
  name             TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('fp16','int8','prune','onnx')),
  format           TEXT NOT NULL,
  model_sha256     TEXT NOT NULL,
  manifest_sha256  TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  details          TEXT NOT NULL,
  samples          INTEGER NOT NULL,
  data_fingerprint TEXT NOT NULL,
  fp32             TEXT NOT NULL,
  variant          TEXT NOT NULL,
  UNIQUE (version_id, name)
);
INSERT INTO variants_v6 SELECT id, version_id, name, kind, format, model_sha256, manifest_sha256,
  created_at, details, samples, data_fingerprint, fp32, variant FROM variants;
DROP TABLE variants;
ALTER TABLE variants_v6 RENAME TO variants;
)sql";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

// Version 1 recorded what targets held only in its history rows: a deploy row (to 'deployed',
// with the target) placed a version, the row right after it for another version on the same
// target said what it replaced, a redeploy that repaired files kept the version, and a forced
// retire listed the targets it emptied. target_log is rebuilt from them, oldest first.
void backfill_target_log(sql::Connection& db) {
  auto rows = db.prepare(
      "SELECT h.id, h.version_id, v.model_id, h.at, h.from_state, h.to_state, h.actor, h.reason, "
      "h.target, h.command FROM history h JOIN versions v ON v.id = h.version_id "
      "WHERE h.target != '' ORDER BY h.id");
  auto insert = db.prepare(
      "INSERT INTO target_log (model_id, target, version_id, kind, at, actor, host, reason, command) "
      "VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)");
  int64_t previous_id = -1, previous_version = -1;
  std::string previous_target;
  while (rows.step()) {
    const int64_t id = rows.column_int(0), version_id = rows.column_int(1);
    const std::string to = rows.column_text(5), reason = rows.column_text(7),
                      target = rows.column_text(8);
    const bool replaced_by_previous_row = id == previous_id + 1 && target == previous_target &&
                                          version_id != previous_version &&
                                          rows.column_text(4) == "deployed";
    auto add = [&](const std::string& on, std::optional<int64_t> version, const char* kind) {
      insert.bind(1, rows.column_int(2)).bind(2, on);
      if (version) insert.bind(3, *version);
      insert.bind(4, std::string_view(kind)).bind(5, rows.column_text(3)).bind(6, rows.column_text(6));
      insert.bind(7, reason).bind(8, rows.column_text(9));
      insert.run();
      insert.reset();
    };
    if (to == "deployed" && !replaced_by_previous_row &&
        reason.rfind("files on " + target + " were missing", 0) != 0) {
      add(target, version_id, "deploy");
      previous_id = id, previous_version = version_id, previous_target = target;
      continue;
    }
    if (to == "retired") {
      for (const auto& emptied : split_commas(target)) add(emptied, std::nullopt, "remove");
    }
    previous_id = -1;
  }
}

void migrate_1_to_2(sql::Connection& db) {
  db.execute(kMigrationV1ToV2);
  backfill_target_log(db);
}

// SQLite: each step upgrades by one version; a new catalogue takes every step from an empty one,
// so new and upgraded catalogues cannot differ.
void prepare_sqlite_schema(sql::Connection& db, int found) {
  if (found < 1) db.execute(kSchemaV1);
  if (found < 2) migrate_1_to_2(db);
  if (found < 3) db.execute(kMigrationV2ToV3);
  if (found < 4) db.execute(kMigrationV3ToV4);
  if (found < 5) db.execute(kMigrationV4ToV5);
  if (found < 6) db.execute(kMigrationV5ToV6);
  auto violations = db.prepare("PRAGMA foreign_key_check");
  if (violations.step()) {
    throw Error(ErrorKind::catalog, "catalogue upgrade from schema version " + std::to_string(found) +
                                        " broke a reference in table " + violations.column_text(0) +
                                        "; nothing was changed");
  }
}

// PostgreSQL: the tables of SQLite's version 6 in PostgreSQL's types, created at once (no
// PostgreSQL catalogue older than 6 exists). Text compares byte by byte (COLLATE "C") as in
// SQLite, so that names sort the same on both; REAL is 8 bytes in SQLite, DOUBLE PRECISION here.
// Ids are identity columns that take explicit values too (catalog copy keeps SQLite's ids). The
// append-only tables refuse UPDATE, DELETE and TRUNCATE in triggers, owner included.
constexpr const char* kPostgresSchemaV6 = R"sql(
CREATE TABLE models (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name       TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE versions (
  id                  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  model_id            BIGINT NOT NULL REFERENCES models(id),
  version             BIGINT NOT NULL CHECK (version >= 1),
  state               TEXT COLLATE "C" NOT NULL CHECK (state IN
                        ('trained','evaluated','exported','registered','deployed','retired')),
  origin              TEXT COLLATE "C" NOT NULL DEFAULT 'train' CHECK (origin IN ('train','artifact')),
  created_at          TEXT COLLATE "C" NOT NULL,
  description         TEXT COLLATE "C" NOT NULL DEFAULT '',
  config              TEXT COLLATE "C",
  model_info          TEXT COLLATE "C" NOT NULL,
  lineage             TEXT COLLATE "C" NOT NULL,
  checkpoint_sha256   TEXT COLLATE "C",
  model_sha256        TEXT COLLATE "C",
  manifest_sha256     TEXT COLLATE "C",
  artifacts_purged_at TEXT COLLATE "C",
  train_seconds       DOUBLE PRECISION,
  samples_per_second  DOUBLE PRECISION,
  train_samples       BIGINT,
  validation_samples  BIGINT,
  UNIQUE (model_id, version),
  CHECK (origin = 'artifact' OR (config IS NOT NULL AND checkpoint_sha256 IS NOT NULL AND
         train_seconds IS NOT NULL AND samples_per_second IS NOT NULL AND
         train_samples IS NOT NULL AND validation_samples IS NOT NULL)),
  CHECK (origin = 'train' OR (model_sha256 IS NOT NULL AND manifest_sha256 IS NOT NULL))
);
CREATE INDEX versions_by_state ON versions(state);
CREATE TABLE version_inputs (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  role       TEXT COLLATE "C" NOT NULL,
  path       TEXT COLLATE "C" NOT NULL,
  sha256     TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (version_id, role)
);
CREATE TABLE epoch_metrics (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  epoch      BIGINT NOT NULL,
  name       TEXT COLLATE "C" NOT NULL,
  value      DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (version_id, epoch, name)
);
CREATE TABLE evaluations (
  id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  version_id       BIGINT NOT NULL REFERENCES versions(id),
  at               TEXT COLLATE "C" NOT NULL,
  samples          BIGINT NOT NULL,
  passed           BIGINT NOT NULL,
  gates            TEXT COLLATE "C" NOT NULL,
  data_files       TEXT COLLATE "C" NOT NULL,
  origin           TEXT COLLATE "C" NOT NULL DEFAULT 'eval' CHECK (origin IN ('eval','manifest')),
  details          TEXT COLLATE "C",
  data_fingerprint TEXT COLLATE "C",
  on_test_split    BIGINT,
  outcomes         TEXT COLLATE "C"
);
CREATE INDEX evaluations_by_version ON evaluations(version_id, id);
CREATE INDEX evaluations_by_data ON evaluations(version_id, data_fingerprint);
CREATE TABLE evaluation_metrics (
  evaluation_id BIGINT NOT NULL REFERENCES evaluations(id),
  name          TEXT COLLATE "C" NOT NULL,
  value         DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (evaluation_id, name)
);
CREATE TABLE tags (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  key        TEXT COLLATE "C" NOT NULL,
  value      TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (version_id, key)
);
CREATE TABLE variants (
  id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  version_id       BIGINT NOT NULL REFERENCES versions(id),
  name             TEXT COLLATE "C" NOT NULL,
  kind             TEXT COLLATE "C" NOT NULL CHECK (kind IN ('fp16','int8','prune','onnx')),
  format           TEXT COLLATE "C" NOT NULL,
  model_sha256     TEXT COLLATE "C" NOT NULL,
  manifest_sha256  TEXT COLLATE "C" NOT NULL,
  created_at       TEXT COLLATE "C" NOT NULL,
  details          TEXT COLLATE "C" NOT NULL,
  samples          BIGINT NOT NULL,
  data_fingerprint TEXT COLLATE "C" NOT NULL,
  fp32             TEXT COLLATE "C" NOT NULL,
  variant          TEXT COLLATE "C" NOT NULL,
  UNIQUE (version_id, name)
);
CREATE TABLE deployments (
  model_id    BIGINT NOT NULL REFERENCES models(id),
  target      TEXT COLLATE "C" NOT NULL,
  version_id  BIGINT NOT NULL REFERENCES versions(id),
  deployed_at TEXT COLLATE "C" NOT NULL,
  variant_id  BIGINT REFERENCES variants(id),
  PRIMARY KEY (model_id, target)
);
CREATE INDEX deployments_by_version ON deployments(version_id);
CREATE TABLE aliases (
  model_id   BIGINT NOT NULL REFERENCES models(id),
  alias      TEXT COLLATE "C" NOT NULL,
  version_id BIGINT NOT NULL REFERENCES versions(id),
  set_at     TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, alias)
);
CREATE INDEX aliases_by_version ON aliases(version_id);
CREATE TABLE history (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  version_id BIGINT NOT NULL REFERENCES versions(id),
  at         TEXT COLLATE "C" NOT NULL,
  from_state TEXT COLLATE "C",
  to_state   TEXT COLLATE "C" NOT NULL,
  actor      TEXT COLLATE "C" NOT NULL,
  reason     TEXT COLLATE "C" NOT NULL,
  target     TEXT COLLATE "C" NOT NULL,
  command    TEXT COLLATE "C" NOT NULL,
  event      TEXT COLLATE "C" NOT NULL DEFAULT 'transition'
    CHECK (event IN ('transition','alias','metadata','purge','evaluation','variant')),
  host       TEXT COLLATE "C" NOT NULL DEFAULT '',
  detail     TEXT COLLATE "C"
);
CREATE INDEX history_by_version ON history(version_id, id);
CREATE TABLE target_log (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  model_id   BIGINT NOT NULL REFERENCES models(id),
  target     TEXT COLLATE "C" NOT NULL,
  version_id BIGINT REFERENCES versions(id),
  kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('deploy','rollback','remove')),
  at         TEXT COLLATE "C" NOT NULL,
  actor      TEXT COLLATE "C" NOT NULL,
  host       TEXT COLLATE "C" NOT NULL,
  reason     TEXT COLLATE "C" NOT NULL,
  command    TEXT COLLATE "C" NOT NULL,
  variant_id BIGINT REFERENCES variants(id),
  CHECK ((kind = 'remove') = (version_id IS NULL))
);
CREATE INDEX target_log_by_target ON target_log(model_id, target, id);
CREATE INDEX target_log_by_version ON target_log(version_id, target);
CREATE FUNCTION mlc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER history_is_append_only BEFORE UPDATE OR DELETE ON history
  FOR EACH ROW EXECUTE FUNCTION mlc_refuse_change();
CREATE TRIGGER history_is_append_only_truncate BEFORE TRUNCATE ON history
  FOR EACH STATEMENT EXECUTE FUNCTION mlc_refuse_change();
CREATE TRIGGER target_log_is_append_only BEFORE UPDATE OR DELETE ON target_log
  FOR EACH ROW EXECUTE FUNCTION mlc_refuse_change();
CREATE TRIGGER target_log_is_append_only_truncate BEFORE TRUNCATE ON target_log
  FOR EACH STATEMENT EXECUTE FUNCTION mlc_refuse_change();
)sql";

}  // namespace

void prepare_catalog_schema(sql::Connection& db) {
  if (db.schema_version() == kCatalogSchemaVersion) return;  // the common case: no lock taken
  const bool sqlite = db.backend() == sql::Backend::sqlite;
  // Rebuilding a table that others reference needs foreign keys off, and the pragma is a no-op
  // inside a transaction; foreign_key_check proves the rebuild kept every reference.
  if (sqlite) db.execute("PRAGMA foreign_keys = OFF");
  db.begin_write();
  try {
    const int found = db.schema_version();  // again, under the lock: another process may have won
    if (found > kCatalogSchemaVersion) {
      throw Error(ErrorKind::catalog,
                  "the catalogue has schema version " + std::to_string(found) +
                      ", made by a newer mlc; this mlc understands up to version " +
                      std::to_string(kCatalogSchemaVersion) + ": upgrade mlc");
    }
    if (sqlite) {
      prepare_sqlite_schema(db, found);
    } else if (found == 0) {
      db.execute(kPostgresSchemaV6);
    }
    // Version 7 on: one migration for both backends, in SQL both understand, here.
    db.set_schema_version(kCatalogSchemaVersion);
    db.commit();
  } catch (...) {
    try {
      db.rollback();
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
    }
    if (sqlite) db.execute("PRAGMA foreign_keys = ON");
    throw;
  }
  if (sqlite) db.execute("PRAGMA foreign_keys = ON");
}

}  // namespace mlc
