#!/usr/bin/python3
"""Version-number allocation under parallel writers on a real PostgreSQL 15 (issue 11).

Starts its own cluster with tests/cli/postgres_server.sh (unix socket + TCP loopback), and for each
transport, client count and strategy: recreates the tables (schema.sql), runs pgbench with the
strategy's script (every client allocates --transactions versions), then checks what was stored:
the versions of each model must be exactly 1..committed, with no duplicate and no gap. Stops the
cluster at the end, also on failure. Prints Markdown tables; --json FILE keeps the raw figures.

  bench/pg_allocation/run.py [--clients 8,32,100] [--transactions 100] [--models shared|per-client]
                             [--transports socket,tcp] [--strategies a,b,b2,c,d,d_nopk] [--repeat 3]

With --repeat, the whole matrix runs that many times, the strategies' order rotated each time (the
machine is shared and noisy); the tables give the median tps with the lowest and highest beside it.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "..", "tests", "cli", "postgres_server.sh")
PG_BIN = "/usr/lib/postgresql/15/bin"
PGBENCH_TIMEOUT = 300  # seconds for one pgbench run
STRATEGIES = {
    "a": ("a_advisory.sql", "versions", "advisory xact lock + MAX+1"),
    "a_global": ("a_global_advisory.sql", "versions", "one advisory key for all writers + MAX+1"),
    "e": ("e_create_version.sql", "versions", "one advisory key + create_version-sized transaction (26 round trips)"),
    "b": ("b_counter_for_update.sql", "versions", "FOR UPDATE on a counter row"),
    "b2": ("b2_model_row_for_update.sql", "versions", "FOR UPDATE on the model row + MAX+1"),
    "c": ("c_serializable.sql", "versions", "SERIALIZABLE + MAX+1, retried"),
    "d": ("d_read_committed.sql", "versions", "READ COMMITTED MAX+1 (broken)"),
    "d_nopk": ("d_read_committed_nopk.sql", "versions_nopk", "READ COMMITTED MAX+1, no key"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(env, sql):
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def reset(env, nmodels):
    subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                    os.path.join(HERE, "schema.sql")], env=env, capture_output=True, timeout=60, check=True)
    psql(env, f"INSERT INTO models SELECT 'm' || i FROM generate_series(0, {nmodels - 1}) i;"
              f"INSERT INTO model_counters SELECT 'm' || i, 1 FROM generate_series(0, {nmodels - 1}) i;"
              "CHECKPOINT;")


def field(pattern, text, default=None, cast=float):
    m = re.search(pattern, text, re.M)
    return cast(m.group(1)) if m else default


def run_pgbench(env, script, clients, transactions, nmodels, max_tries):
    cmd = [f"{PG_BIN}/pgbench", "-n", "-f", os.path.join(HERE, script), "-D", f"nmodels={nmodels}",
           "-c", str(clients), "-j", "2", "-t", str(transactions),
           "--max-tries", str(max_tries), "--failures-detailed"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PGBENCH_TIMEOUT)
        status, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:  # recorded as such; the tables still get checked
        status, out = "timeout", (e.stdout or b"").decode() + (e.stderr or b"").decode()
    wall = time.monotonic() - t0
    return {
        "exit": status,
        "wall_s": round(wall, 2),
        "tps": field(r"^tps = ([\d.]+)", out),
        "latency_ms": field(r"^latency average = ([\d.]+) ms", out),
        "processed": field(r"actually processed: (\d+)/", out, cast=int),
        "failed": field(r"number of failed transactions: (\d+)", out, 0, int),
        "retried": field(r"number of transactions retried: (\d+)", out, 0, int),
        "retries": field(r"total number of retries: (\d+)", out, 0, int),
        "aborted_clients": len(re.findall(r"aborted in command", out)),
        "abort_errors": sorted(set(re.findall(r"aborted in command \d+ query \d+: ERROR:  ([^\n]*)", out))),
    }


def check(env, table):
    """Per model: rows, distinct versions, max; duplicates = rows - distinct, gaps = max - distinct."""
    rows = psql(env, f"SELECT model, count(*), count(DISTINCT version), min(version), max(version) "
                     f"FROM {table} GROUP BY model ORDER BY model")
    stored = dup = gaps = 0
    exact = True
    for line in rows.splitlines():
        _, n, distinct, lo, hi = line.split("|")
        n, distinct, lo, hi = int(n), int(distinct), int(lo), int(hi)
        stored += n
        dup += n - distinct
        gaps += hi - distinct
        exact = exact and n == distinct == hi and lo == 1
    return {"stored": stored, "duplicates": dup, "gaps": gaps, "exactly_1_to_n": exact}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="8,32,100")
    ap.add_argument("--transactions", type=int, default=100, help="per client")
    ap.add_argument("--models", choices=["shared", "per-client"], default="shared",
                    help="shared: every client writes the same model (the worst case)")
    ap.add_argument("--transports", default="socket,tcp")
    ap.add_argument("--strategies", default="a,b,b2,c,d,d_nopk")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--max-tries", type=int, default=100000,
                    help="pgbench's limit on tries of a transaction failing with 40001/40P01 (MLflow: 3)")
    ap.add_argument("--json", help="write the raw results here")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    strategies = args.strategies.split(",")
    transports = args.transports.split(",")

    # A SIGTERM (timeout(1)) unwinds like an exception, so that the finally below stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("run.py: terminated"))
    tmp = tempfile.mkdtemp(prefix="mlc-pgalloc-")
    pgdir = os.path.join(tmp, "pg")
    port = free_port()
    t0 = time.monotonic()
    url = subprocess.run([SERVER, "start", pgdir, "--tcp", str(port), "--max-connections",
                          str(max(clients) + 20), "--lifetime", "3600"],
                         capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    started = time.monotonic() - t0
    env_file = dict(line.split("=", 1) for line in open(os.path.join(pgdir, "server.env")).read().split())
    print(f"server: {url} (initdb {env_file['PG_INITDB_SECONDS']} s, pg_ctl start "
          f"{env_file['PG_START_SECONDS']} s, whole start {started:.2f} s); load: {os.getloadavg()}")
    results = []
    try:
        base = dict(os.environ, PGDATABASE="mlc", PGPORT=str(port))
        hosts = {"socket": pgdir, "tcp": "127.0.0.1"}
        base["PGHOST"] = pgdir
        print("server settings:", psql(base, "SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings "
                                             "WHERE name IN ('max_connections','synchronous_commit','fsync',"
                                             "'shared_buffers','max_pred_locks_per_transaction')"))
        for rep in range(args.repeat):
            order = strategies[rep % len(strategies):] + strategies[:rep % len(strategies)]
            for transport in transports:
                env = dict(base, PGHOST=hosts[transport])
                for c in clients:
                    nmodels = 1 if args.models == "shared" else c
                    for s in order:
                        script, table, _ = STRATEGIES[s]
                        reset(env, nmodels)
                        r = run_pgbench(env, script, c, args.transactions, nmodels, args.max_tries)
                        r.update(check(env, table))
                        r.update(strategy=s, transport=transport, clients=c, models=args.models, rep=rep,
                                 transactions_per_client=args.transactions, load=os.getloadavg()[0])
                        results.append(r)
                        print(json.dumps(r), file=sys.stderr, flush=True)
    finally:
        subprocess.run([SERVER, "stop", pgdir], timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print_tables(results, transports, clients, strategies, args)


def print_tables(results, transports, clients, strategies, args):
    for transport in transports:
        print(f"\n### {transport}, {args.models} model, {args.transactions} transactions per client, "
              f"{args.repeat} run(s), --max-tries {args.max_tries}\n")
        print("| strategy | clients | tps median (min-max) | avg latency ms | committed/asked | failed "
              "| retries per commit | aborted clients | duplicates | gaps | exactly 1..n | load |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for c in clients:
            for s in strategies:
                runs = [r for r in results if r["transport"] == transport and r["clients"] == c
                        and r["strategy"] == s]
                if not runs:
                    continue
                asked = c * args.transactions
                tps = [r["tps"] or 0 for r in runs]
                committed = "/".join(str(r["stored"]) for r in runs)
                exact = all(r["exactly_1_to_n"] and r["stored"] == asked for r in runs)
                print(f"| {s} {STRATEGIES[s][2]} | {c} | {statistics.median(tps):.0f} ({min(tps):.0f}-{max(tps):.0f}) "
                      f"| {statistics.median(r['latency_ms'] or 0 for r in runs):.1f} | {committed} of {asked} "
                      f"| {sum(r['failed'] for r in runs)} "
                      f"| {sum(r['retries'] for r in runs) / max(1, sum(r['stored'] for r in runs)):.1f} "
                      f"| {sum(r['aborted_clients'] for r in runs)} | {max(r['duplicates'] for r in runs)} "
                      f"| {max(r['gaps'] for r in runs)} | {'yes' if exact else 'NO'} "
                      f"| {statistics.median(r['load'] for r in runs):.1f} |")

if __name__ == "__main__":
    main()
