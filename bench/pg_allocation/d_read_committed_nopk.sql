-- (d, no key) The same race on a table without the primary key: the doubled numbers are stored.
\set m :client_id % :nmodels
BEGIN;
SELECT coalesce(max(version), 0) + 1 AS v FROM versions_nopk WHERE model = 'm' || :m \gset
INSERT INTO versions_nopk (model, version) VALUES ('m' || :m, :v);
COMMIT;
