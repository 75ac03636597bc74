-- bench/pg_allocation: the tables each run starts from; run.py then adds one models and one model_counters row per model.
DROP TABLE IF EXISTS versions, versions_nopk, model_counters, models, version_rows;
CREATE TABLE models (name text PRIMARY KEY);
CREATE TABLE versions (model text NOT NULL, version int NOT NULL, PRIMARY KEY (model, version));
-- The broken baseline again without the key, so that its doubled numbers show instead of failing.
CREATE TABLE versions_nopk (model text NOT NULL, version int NOT NULL);
CREATE TABLE model_counters (model text PRIMARY KEY, next_version int NOT NULL);
-- For e_create_version.sql: the side rows a real `mlc train` writes in the same transaction.
DROP TABLE IF EXISTS version_rows;
CREATE TABLE version_rows (model text NOT NULL, version int NOT NULL, kind text NOT NULL,
                           name text NOT NULL, value double precision);
