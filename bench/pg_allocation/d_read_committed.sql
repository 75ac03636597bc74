-- (d) The broken baseline: READ COMMITTED, MAX+1, no lock. Two writers can read the same MAX; the
-- primary key then refuses the second (a failed registration, 23505).
\set m :client_id % :nmodels
BEGIN;
SELECT coalesce(max(version), 0) + 1 AS v FROM versions WHERE model = 'm' || :m \gset
INSERT INTO versions (model, version) VALUES ('m' || :m, :v);
COMMIT;
