-- (c) SERIALIZABLE, MAX+1, no lock: conflicting writers fail with 40001 (or 40P01) and pgbench
-- retries the whole transaction (--max-tries).
\set m :client_id % :nmodels
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT coalesce(max(version), 0) + 1 AS v FROM versions WHERE model = 'm' || :m \gset
INSERT INTO versions (model, version) VALUES ('m' || :m, :v);
COMMIT;
