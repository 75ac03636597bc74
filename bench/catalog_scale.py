#!/usr/bin/python3
"""Catalogue commands at scale: 10,000 versions across 100 models.

Builds a catalogue with mlc itself (one model trained, evaluated, exported and registered from
tests/data/wine.csv), then copies that version's rows (version, epochs, data fingerprints, tags,
its evaluation and its metrics, the history rows) into 100 models x 100 versions with SQLite, in
the catalogue's own schema, so that every copy points at the same real stored files. Then times mlc's catalogue commands on it,
each run a fresh process, and reports the median wall time; `register --artifact`, which loads
the file with libtorch, is reported beside them.

With --backends sqlite,socket,tcp the same catalogue is also copied (mlc catalog copy) into a
PostgreSQL 15 that the driver starts (tests/cli/postgres_server.sh) and each command runs on the
three side by side, one run of each in turn: the SQLite file, PostgreSQL over its unix socket and
over TCP on 127.0.0.1. Each backend has its own copy of MLC_HOME's files, so that their
deployments do not meet.

Usage: bench/catalog_scale.py [--mlc build/bin/mlc] [--runs 30] [--models 100] [--versions 100]
                              [--backends sqlite[,socket][,tcp]] [--port 55432]
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time

from benchlib import run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(argv, env):
    """Wall seconds and CPU seconds (user + system) of one run of argv. CPU time hardly depends
    on what else the machine runs; wall time does (fsync waits, run queue)."""
    _, wall, usage = run_measured(argv, env)
    return wall, usage.ru_utime + usage.ru_stime


def populate(db_file, models, versions):
    con = sqlite3.connect(db_file)
    con.execute("PRAGMA foreign_keys = ON")
    seed = con.execute("SELECT * FROM versions WHERE id = 1").fetchone()
    columns = [c[1] for c in con.execute("PRAGMA table_info(versions)")]
    seed = dict(zip(columns, seed))
    epochs = con.execute("SELECT epoch, name, value FROM epoch_metrics WHERE version_id = 1").fetchall()
    inputs = con.execute("SELECT role, path, sha256 FROM version_inputs WHERE version_id = 1").fetchall()
    history = con.execute("SELECT from_state, to_state, actor, reason, target, command, event, host "
                          "FROM history WHERE version_id = 1 ORDER BY id").fetchall()
    copied = [c for c in columns if c not in ("id", "model_id", "version", "created_at", "state")]
    evaluation_columns = [c[1] for c in con.execute("PRAGMA table_info(evaluations)") if c[1] not in ("id", "version_id")]
    evaluations = [(e[0], e[1:]) for e in con.execute(
        f"SELECT id, {', '.join(evaluation_columns)} FROM evaluations WHERE version_id = 1 ORDER BY id")]
    with con:
        for m in range(models):
            model_id = con.execute("INSERT INTO models (name, created_at) VALUES (?, ?)",
                                   (f"m{m:03d}", seed["created_at"])).lastrowid
            for v in range(1, versions + 1):
                at = f"2026-{1 + v // 30:02d}-{1 + v % 28:02d}T{m % 24:02d}:00:00.000Z"
                version_id = con.execute(
                    f"INSERT INTO versions (model_id, version, state, created_at, {', '.join(copied)}) "
                    f"VALUES (?, ?, 'registered', ?, {', '.join('?' * len(copied))})",
                    [model_id, v, at] + [seed[c] for c in copied]).lastrowid
                con.executemany("INSERT INTO epoch_metrics VALUES (?, ?, ?, ?)",
                                [(version_id,) + e for e in epochs])
                con.executemany("INSERT INTO version_inputs VALUES (?, ?, ?, ?)",
                                [(version_id,) + i for i in inputs])
                con.execute("INSERT INTO tags VALUES (?, 'batch', ?)", (version_id, str(v % 10)))
                for seed_evaluation, values in evaluations:
                    evaluation_id = con.execute(
                        f"INSERT INTO evaluations (version_id, {', '.join(evaluation_columns)}) "
                        f"VALUES (?, {', '.join('?' * len(evaluation_columns))})", (version_id,) + values).lastrowid
                    con.execute("INSERT INTO evaluation_metrics SELECT ?, name, value FROM evaluation_metrics "
                                "WHERE evaluation_id = ?", (evaluation_id, seed_evaluation))
                con.executemany(
                    "INSERT INTO history (version_id, at, from_state, to_state, actor, reason, target, "
                    "command, event, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(version_id, at) + h for h in history])
    con.close()


POSTGRES_SERVER = os.path.join(ROOT, "tests", "cli", "postgres_server.sh")


def backend_environments(home, backends, port, mlc, env):
    """MLC_HOME (and MLC_CATALOG) for each backend: the SQLite home as built, and for PostgreSQL a
    copy of the home's files with the catalogue copied into the server by mlc catalog copy."""
    envs = {}
    server_dir = os.path.join(home, "pg")
    if any(b != "sqlite" for b in backends):
        subprocess.run([POSTGRES_SERVER, "start", server_dir, "--tcp", str(port), "--lifetime", "7200"],
                       check=True, stdout=subprocess.DEVNULL)
    for backend in backends:
        if backend == "sqlite":
            envs[backend] = env
            continue
        url = subprocess.run([POSTGRES_SERVER, "url", server_dir, backend], check=True, capture_output=True,
                             text=True).stdout.strip()
        copy_home = os.path.join(home, f"home-{backend}")
        shutil.copytree(env["MLC_HOME"], copy_home, symlinks=True)
        os.remove(os.path.join(copy_home, "catalog.db"))
        subprocess.run(["psql", "-X", "-q", "-d", url, "-c", f"CREATE SCHEMA {backend}"], check=True)
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{backend}"
        started = time.perf_counter()
        subprocess.run([mlc, "-q", "catalog", "copy", "--to", url], env=env, check=True)
        print(f"catalog copy to PostgreSQL over {backend}: {time.perf_counter() - started:.1f} s")
        envs[backend] = dict(env, MLC_HOME=copy_home, MLC_CATALOG=url)
    return envs, server_dir


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--backends", default="sqlite",
                        help="comma-separated: sqlite, socket (PostgreSQL's unix socket), tcp (127.0.0.1)")
    parser.add_argument("--port", type=int, default=55432, help="the PostgreSQL server's TCP port")
    args = parser.parse_args()
    backends = args.backends.split(",")
    mlc = os.path.abspath(args.mlc)
    home = tempfile.mkdtemp(prefix="mlc-scale-")
    env = dict(os.environ, MLC_HOME=os.path.join(home, "home"), MLC_ACTOR="bench")

    config = os.path.join(home, "wine.json")
    with open(config, "w") as f:
        f.write('{"data": {"format": "csv", "path": "%s", "target": "class"},'
                ' "model": {"architecture": "mlp", "hidden_layers": [16]},'
                ' "training": {"epochs": 5, "batch_size": 16, "seed": 1, "threads": 1,'
                ' "optimizer": {"name": "adam", "learning_rate": 0.01}}}'
                % os.path.join(ROOT, "tests", "data", "wine.csv"))
    for step in (["train", config, "--name", "seed"], ["eval", "seed:1"],
                 ["export", "seed:1", "--out", os.path.join(home, "seed.pt")], ["register", "seed:1"]):
        subprocess.run([mlc, "-q"] + step, env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    populate(os.path.join(home, "home", "catalog.db"), args.models, args.versions)
    total = args.models * args.versions
    print(f"catalogue: {total} versions across {args.models} models (+1 seed), built in "
          f"{time.perf_counter() - started:.1f} s; {args.runs} runs per command, {os.cpu_count()} cores")
    envs, server_dir = backend_environments(home, backends, args.port, mlc, env)
    print()

    model = f"m{args.models // 2:03d}"
    n = min(args.runs, args.versions - 1)
    plan = [
        ("list NAME --state registered", lambda i: ["--json", "list", model, "--state", "registered"]),
        ("list --state deployed", lambda i: ["--json", "list", "--state", "deployed"]),
        ("list (every version)", lambda i: ["--json", "list"]),
        ("list --tag batch=3 --sort accuracy --limit 10",
         lambda i: ["--json", "list", "--tag", "batch=3", "--sort", "accuracy", "--limit", "10"]),
        ("show NAME:VERSION", lambda i: ["--json", "show", f"{model}:{1 + i % args.versions}"]),
        ("history NAME", lambda i: ["--json", "history", model]),
        ("deploy NAME:VERSION --target staging", lambda i: ["--json", "deploy", f"{model}:{1 + i}", "--target", "staging"]),
        ("history NAME --target staging --at TIME",
         lambda i: ["--json", "history", model, "--target", "staging", "--at", "2999-01-01T00:00:00Z"]),
        ("rollback NAME --target staging", lambda i: ["--json", "rollback", model, "--target", "staging"]),
        ("alias NAME champion VERSION", lambda i: ["--json", "alias", model, "champion", str(1 + i)]),
        ("show NAME@champion", lambda i: ["--json", "show", f"{model}@champion"]),
    ]
    def report(label, backend, samples):
        walls = sorted(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"| mlc --json {label} | {backend} | {statistics.median(walls) * 1000:.1f} | {walls[0] * 1000:.1f} | "
              f"{walls[-1] * 1000:.1f} | {cpu * 1000:.1f} |", flush=True)

    print(f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| command | catalogue | median ms | min ms | max ms | median CPU ms |")
    print("|---|---|---|---|---|---|")
    for label, argv_of in plan:
        runs = n - 1 if label.startswith("rollback") else n  # n deploys leave n - 1 to roll back
        samples = {backend: [] for backend in backends}
        for i in range(runs):  # side by side: one run on each backend in turn
            for backend in backends:
                samples[backend].append(run_timed([mlc] + argv_of(i), envs[backend]))
        for backend in backends:
            report(label, backend, samples[backend])
    artifact = os.path.join(home, "seed.pt")
    for backend in backends:
        report("register --artifact FILE --name NAME (loads libtorch; 5 runs)", backend,
               [run_timed([mlc, "--json", "register", "--artifact", artifact, "--name", model], envs[backend])
                for _ in range(5)])
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    for backend in backends:
        subprocess.run([mlc, "verify"], env=envs[backend], check=True, stdout=subprocess.DEVNULL)
    if any(b != "sqlite" for b in backends):
        subprocess.run([POSTGRES_SERVER, "stop", server_dir], check=True)


if __name__ == "__main__":
    main()
