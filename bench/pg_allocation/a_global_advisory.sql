-- (a, global) One advisory key for every write transaction of the catalogue, whatever the model:
-- the PostgreSQL twin of SQLite's BEGIN IMMEDIATE (one writer at a time, readers never blocked).
-- 0x6d6c63 is 'mlc'. Then MAX+1 as in (a).
\set m :client_id % :nmodels
BEGIN;
SELECT pg_advisory_xact_lock(7171171);
INSERT INTO versions (model, version)
  SELECT 'm' || :m, coalesce(max(version), 0) + 1 FROM versions WHERE model = 'm' || :m;
COMMIT;
