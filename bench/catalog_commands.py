#!/usr/bin/python3
"""Start-up cost of mlc's catalogue commands, beside what any PyTorch-based CLI pays.

Builds a catalogue with a few versions of a wine-table model (the real train/eval/export/register/
deploy path), then runs each catalogue command N times and reports the median wall time and the
peak RSS. For scale it runs, in the same session, `python3 -c "import torch"`: the floor for a
registry CLI written in Python on PyTorch (MLflow's CLI pays more on top, MLflow #3511).

Usage: bench/catalog_commands.py [--mlc build/bin/mlc] [--runs 30]
"""
import argparse
import os
import statistics
import subprocess
import tempfile

from benchlib import run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(argv, env):
    """Wall seconds and peak RSS (MiB) of one run of argv."""
    _, wall, usage = run_measured(argv, env)
    return wall, usage.ru_maxrss / 1024.0


def measure(label, argv, env, runs):
    samples = [run_timed(argv, env) for _ in range(runs)]
    walls = sorted(s[0] for s in samples)
    rss = max(s[1] for s in samples)
    median_ms = statistics.median(walls) * 1000
    print(f"| {label} | {median_ms:.1f} | {walls[0]*1000:.1f} | {walls[-1]*1000:.1f} | {rss:.1f} |")
    return median_ms, rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()
    mlc = os.path.abspath(args.mlc)

    home = tempfile.mkdtemp(prefix="mlc-bench-")
    env = dict(os.environ, MLC_HOME=home, MLC_ACTOR="bench")
    config = os.path.join(home, "wine.json")
    with open(config, "w") as f:
        f.write('{"data": {"format": "csv", "path": "%s", "target": "class"},'
                ' "model": {"architecture": "mlp", "hidden_layers": [16]},'
                ' "training": {"epochs": 5, "batch_size": 16, "seed": 1, "threads": 1,'
                ' "optimizer": {"name": "adam", "learning_rate": 0.01}}}'
                % os.path.join(ROOT, "tests", "data", "wine.csv"))
    for v in range(1, args.versions + 1):
        for step in (["train", config, "--name", "wine"], ["eval", f"wine:{v}"],
                     ["export", f"wine:{v}", "--out", os.path.join(home, f"v{v}.pt")],
                     ["register", f"wine:{v}"], ["deploy", f"wine:{v}", "--target", "production"]):
            subprocess.run([mlc, "-q"] + step, env=env, check=True, stdout=subprocess.DEVNULL)

    print(f"{args.runs} runs each, catalogue with {args.versions} versions, {os.cpu_count()} cores\n")
    print("| command | median ms | min ms | max ms | peak RSS MiB |")
    print("|---|---|---|---|---|")
    results = {}
    for label, extra in (("mlc --json list", ["--json", "list"]),
                         ("mlc --json list wine --state registered", ["--json", "list", "wine", "--state", "registered"]),
                         ("mlc --json show wine@production", ["--json", "show", "wine@production"]),
                         ("mlc --json history wine", ["--json", "history", "wine"])):
        results[label] = measure(label, [mlc] + extra, env, args.runs)
    peer = measure('python3 -c "import torch" (peer floor)', ["/usr/bin/python3", "-c", "import torch"],
                   env, max(5, args.runs // 3))
    list_ms = results["mlc --json list"][0]
    print(f"\nimport torch / mlc list, median wall: {peer[0] / list_ms:.0f}x")


if __name__ == "__main__":
    main()
