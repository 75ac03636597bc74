-- (b2) SELECT ... FOR UPDATE on the model's own row (no counter to keep in step), then MAX+1 in a
-- later statement, whose READ COMMITTED snapshot is taken after the row lock is held.
\set m :client_id % :nmodels
BEGIN;
SELECT 1 FROM models WHERE name = 'm' || :m FOR UPDATE;
INSERT INTO versions (model, version)
  SELECT 'm' || :m, coalesce(max(version), 0) + 1 FROM versions WHERE model = 'm' || :m;
COMMIT;
