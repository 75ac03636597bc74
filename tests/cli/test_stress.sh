#!/usr/bin/env bash
# 8 processes x 100 mixed operations (register an artifact, deploy, rollback, alias, retire) on one
# catalogue at once, production protected by a policy: every command succeeds or is refused by a
# rule (exit 6), never "database is locked"; version numbers are 1..N with none lost or given
# twice; the history has exactly one transition row per transition the successful commands
# reported, and one alias row per alias change; the catalogue and the deployments verify clean.
# Prints the throughput (bench/README.md records it); asserts no timing.
source "$(dirname "$0")/lib.sh"
WORKERS=${MLC_STRESS_WORKERS:-8}
OPERATIONS=${MLC_STRESS_OPERATIONS:-100}
"$PYTHON" "$MLC_SOURCE_DIR/tests/cli/make_torchscript.py" a.pt b.pt c.pt
mkdir -p "$MLC_HOME"
echo '{"targets": {"production": {"requires_deployed_to": ["staging"]}}}' > "$MLC_HOME/policy.json"

start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$WORKERS"); do
  "$PYTHON" "$MLC_SOURCE_DIR/tests/cli/stress_worker.py" "$MLC_BIN" "$i" "$OPERATIONS" a.pt b.pt c.pt > "worker-$i.jsonl" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a worker crashed"; done
end=$(date +%s.%N)

PYTHONPATH="$MLC_SOURCE_DIR/tests/cli" "$PYTHON" - "$WORKERS" "$OPERATIONS" "$start" "$end" worker-*.jsonl <<'PY' || fail "stress invariants"
import collections, json, sys
import catalog_db
workers, operations, start, end, files = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
records = [json.loads(line) for name in files for line in open(name)]
assert len(records) == workers * operations, f"{len(records)} records"
bad = [r for r in records if r["exit"] not in (0, 6) or "locked" in r["stderr"]]
assert not bad, f"not a success or a rule refusal: {bad[:3]}"
refusals = [r for r in records if r["exit"] == 6]
assert all(r["stderr"].startswith("mlc: error: ") and r["stderr"].count("\n") == 1 for r in refusals), refusals[:3]

registered = [r["out"]["version"] for r in records if r["op"] == "register" and r["exit"] == 0]
con = catalog_db.Catalog()
numbers = [n for (n,) in con.execute("SELECT v.version FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 's' ORDER BY 1")]
assert sorted(registered) == numbers == list(range(1, len(numbers) + 1)), (sorted(registered), numbers)

expected_transitions = expected_alias_rows = 0
for r in records:
    if r["exit"] != 0:
        continue
    out = r["out"]
    if r["op"] in ("register", "retire"):
        expected_transitions += 1
    elif r["op"] == "deploy":
        expected_transitions += (1 + (out["replaced"] is not None)) if out["changed"] else 0
    elif r["op"] == "rollback":
        expected_transitions += 1 + (out["replaced"] is not None)
    elif r["op"] == "alias" and out["changed"]:
        moved = out["previous"] is not None and out["previous"]["version"] != out["version"]["version"]
        expected_alias_rows += 1 + moved
transitions = con.execute("SELECT count(*) FROM history WHERE event = 'transition'").fetchone()[0]
alias_rows = con.execute("SELECT count(*) FROM history WHERE event = 'alias'").fetchone()[0]
assert transitions == expected_transitions, f"{transitions} transition rows, {expected_transitions} transitions reported"
assert alias_rows == expected_alias_rows, f"{alias_rows} alias rows, {expected_alias_rows} alias changes reported"
for target, holders in con.execute("SELECT target, count(*) FROM deployments GROUP BY target").fetchall():
    assert holders == 1, (target, holders)
assert con.integrity() == "ok", con.integrity()
ops = collections.Counter((r["op"], r["exit"]) for r in records)
print("operations (op, exit): " + ", ".join(f"{op} {code}: {n}" for (op, code), n in sorted(ops.items())))
print(f"stress ({'PostgreSQL' if con.postgres else 'SQLite'}): {len(records)} operations by {workers} processes in {end - start:.1f} s: "
      f"{len(records) / (end - start):.1f} operations/s; {len(numbers)} versions, {transitions} transitions")
PY
run_mlc 0 --json verify; validate verify
[ "$(json_field "$OUT" "d['ok'], d['recovered']")" = "True []" ] || fail "verify after the stress run: $OUT"
ok "$WORKERS x $OPERATIONS mixed operations: no lock errors, versions 1..N, one history row per transition, verify clean"
