-- (e) A write transaction shaped like Catalog::create_version (catalog.cpp:879-935): the global
-- advisory key, the model row upserted, MAX+1, the version, then 20 side rows one statement each
-- (tags, inputs, epoch metrics, history), as the SQLite code does. Its single-client latency is
-- the write lock's hold time per registration on this machine, over one round trip per statement.
\set m :client_id % :nmodels
BEGIN;
SELECT pg_advisory_xact_lock(7171171);
INSERT INTO models (name) VALUES ('m' || :m) ON CONFLICT (name) DO NOTHING;
SELECT coalesce(max(version), 0) + 1 AS v FROM versions WHERE model = 'm' || :m \gset
INSERT INTO versions (model, version) VALUES ('m' || :m, :v);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row1', 1.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row2', 2.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row3', 3.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row4', 4.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row5', 5.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row6', 6.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row7', 7.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row8', 8.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row9', 9.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row10', 10.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row11', 11.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row12', 12.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row13', 13.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row14', 14.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row15', 15.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row16', 16.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row17', 17.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row18', 18.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row19', 19.5);
INSERT INTO version_rows VALUES ('m' || :m, :v, 'metric', 'row20', 20.5);
COMMIT;
