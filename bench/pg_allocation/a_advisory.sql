-- (a) A transaction-scoped advisory lock on the model's name, then MAX+1. The lock is taken in a
-- statement of its own: under READ COMMITTED the INSERT's snapshot is taken after the lock is held,
-- so it sees the previous holder's committed version.
\set m :client_id % :nmodels
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('m' || :m));
INSERT INTO versions (model, version)
  SELECT 'm' || :m, coalesce(max(version), 0) + 1 FROM versions WHERE model = 'm' || :m;
COMMIT;
