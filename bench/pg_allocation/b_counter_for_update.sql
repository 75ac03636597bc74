-- (b) SELECT ... FOR UPDATE on a per-model counter row: the row lock serialises writers of one model.
\set m :client_id % :nmodels
BEGIN;
SELECT next_version AS v FROM model_counters WHERE model = 'm' || :m FOR UPDATE \gset
INSERT INTO versions (model, version) VALUES ('m' || :m, :v);
UPDATE model_counters SET next_version = :v + 1 WHERE model = 'm' || :m;
COMMIT;
