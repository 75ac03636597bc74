#!/usr/bin/python3
"""Time to accuracy: mlc training examples/fashion-mnist/cnn-91.json beside the same recipe in plain
PyTorch Python (bench/peer_time_to_accuracy.py), alternated in one run. The ratio is the figure:
an absolute time on a shared machine varies 2x between hours.

Each round runs, one after another:
1. `mlc --json train CONFIG` in a fresh MLC_HOME (the whole 5-epoch recipe), then `mlc --json eval`
   on the 10,000 test images for the kept version's test accuracy;
2. the Python peer with OpenBLAS left to pick its kernels itself (what a plain `python3` gets; on
   these Xeons OpenBLAS 0.3.21 misdetects the CPU and runs its slow "Prescott" kernels);
3. the Python peer with OPENBLAS_CORETYPE set to what mlc sets before it loads libtorch
   (lib/core/compute_loader.cpp: SkylakeX with AVX-512, Haswell with AVX2), so that a reader sees
   how much of the ratio is that kernel choice. OPENBLAS_CORETYPE is removed from the environment
   of the other two runs (mlc leaves a value the user set alone).

What each clock includes:
- training loop (`train_seconds`), both sides: every epoch's batches plus its validation pass over
  the same 3,000 held-out images (the peer draws mlc's exact split); not data loading, not model
  building; for mlc not the checkpoint and state files written between epochs either; for the
  peer not its test pass after each epoch (mlc runs none while training).
- process wall: the whole `mlc train` process (start, loading, training, recording the version),
  and the whole peer process less its per-epoch test passes.
- 91% test: the peer knows its test accuracy after every epoch, so its figure is the training-loop
  clock at the end of the first epoch whose test accuracy reaches the target. mlc does not test
  while training, so its figure is the whole recipe's training loop, if the kept version's test
  accuracy reaches the target (an upper bound). Shorter `--epochs K` runs of mlc were not used to
  find its epoch: the cosine schedule has T_max = epochs, so a K-epoch run is a different recipe
  (its rate anneals to the minimum by epoch K), and it would cost three more runs.
- 91% validation: both sides record the validation accuracy after every epoch, on the same 3,000
  images, so this per-epoch figure compares like with like.

Each run's figures go to stderr as it ends; the table to stdout at the end.

Usage: bench/time_to_accuracy.py [--mlc build/bin/mlc] [--config examples/fashion-mnist/cnn-91.json]
                                 [--rounds 1] [--target 0.91] [--peer plain,fixed]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchlib import mlc_blas_coretype, run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_reaching(epochs, key, target):
    """(epoch, training-loop seconds at its end) of the first epoch whose `key` reaches target."""
    return next(((e["epoch"], e["seconds"]) for e in epochs if e.get(key, 0) >= target), None)


def run_mlc(mlc, config, env, name, target):
    before = os.getloadavg()[0]
    out, wall, usage = run_measured([mlc, "--json", "train", config, "--name", name], env)
    trained = json.loads(out)
    evaluated = json.loads(subprocess.run([mlc, "--json", "eval", name], env=env, check=True,
                                          capture_output=True).stdout)
    clock, epochs = 0.0, []
    for epoch in trained["metrics"]["epochs"]:
        clock += epoch["seconds"]
        epochs.append(dict(epoch, seconds=clock))
    test_accuracy = evaluated["metrics"]["accuracy"]
    return {"train_seconds": trained["train_seconds"], "wall": wall,
            "rss": usage.ru_maxrss / 1024, "test_accuracy": test_accuracy,
            "kept_epoch": trained["metrics"]["best_epoch"], "epochs": len(epochs),
            "test_target": ((None, trained["train_seconds"]) if test_accuracy >= target else None),
            "validation_target": first_reaching(epochs, "validation_accuracy", target),
            "load": (before, os.getloadavg()[0])}


def run_peer(config, env, target):
    before = os.getloadavg()[0]
    out, wall, usage = run_measured(
        ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_time_to_accuracy.py"),
         "--config", config, "--target", str(target)], env)
    doc = json.loads(out)
    return {"train_seconds": doc["train_seconds"], "wall": wall - doc["test_seconds"],
            "rss": usage.ru_maxrss / 1024, "test_accuracy": doc["test_accuracy"],
            "kept_epoch": doc["best_epoch"], "epochs": len(doc["epochs"]),
            "test_target": ((doc["target_epoch"], doc["target_seconds"])
                            if doc["target_epoch"] else None),
            "validation_target": first_reaching(doc["epochs"], "validation_accuracy", target),
            "per_epoch_test": [e["test_accuracy"] for e in doc["epochs"]],
            "load": (before, os.getloadavg()[0])}


def reached(runs, key):
    """Per run: 'epoch E, S s' (the training-loop clock at the end of epoch E), '≤ S s (end)' when
    only the finished run's accuracy is known, or 'not reached'."""
    parts = []
    for run in runs:
        hit = run[key]
        if hit is None:
            parts.append("not reached")
        elif hit[0] is None:
            parts.append(f"≤ {hit[1]:.1f} s (end)")
        else:
            parts.append(f"epoch {hit[0]}, {hit[1]:.1f} s")
    return "; ".join(parts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--config",
                        default=os.path.join(ROOT, "examples", "fashion-mnist", "cnn-91.json"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--target", type=float, default=0.91)
    parser.add_argument("--peer", default="plain,fixed",
                        help="which Python runs: plain (OpenBLAS's own kernel choice), fixed "
                             "(OPENBLAS_CORETYPE as mlc sets it), or both")
    args = parser.parse_args()
    peers = [p for p in args.peer.split(",") if p]
    if not peers or set(peers) - {"plain", "fixed"}:
        parser.error("--peer: plain, fixed or plain,fixed")
    config, mlc = os.path.abspath(args.config), os.path.abspath(args.mlc)
    coretype = mlc_blas_coretype()
    if "fixed" in peers and coretype is None:
        parser.error("this CPU gets no OPENBLAS_CORETYPE from mlc; use --peer plain")
    home = tempfile.mkdtemp(prefix="mlc-bench-")
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env = dict(base, MLC_HOME=home, MLC_ACTOR="bench")
    sides = {"mlc": [], "plain": [], "fixed": []}
    def done(side, run):
        sides[side].append(run)
        print(f"round {len(sides[side])}, {side}: training loop {run['train_seconds']:.1f} s, test "
              f"accuracy {run['test_accuracy']:.4f}, load {run['load'][0]:.2f} -> "
              f"{run['load'][1]:.2f}", file=sys.stderr, flush=True)

    try:
        for round_index in range(args.rounds):
            done("mlc", run_mlc(mlc, config, env, f"t2a-{round_index}", args.target))
            if "plain" in peers:
                done("plain", run_peer(config, base, args.target))
            if "fixed" in peers:
                done("fixed", run_peer(config, dict(base, OPENBLAS_CORETYPE=coretype),
                                       args.target))
    finally:
        shutil.rmtree(home, ignore_errors=True)

    names = {"mlc": "mlc train (+ mlc eval)", "plain": "PyTorch Python, OpenBLAS's own choice",
             "fixed": f"PyTorch Python, OPENBLAS_CORETYPE={coretype}"}
    loads = [x for runs in sides.values() for run in runs for x in run["load"]]
    median = {side: statistics.median(r["train_seconds"] for r in runs)
              for side, runs in sides.items() if runs}
    print(f"config: {os.path.relpath(config, ROOT)}, {args.rounds} alternated round(s), "
          f"target {args.target:.0%} accuracy, 1-minute load average {min(loads):.2f} to "
          f"{max(loads):.2f}\n")
    print(f"| | training loop, median | all runs | process wall | kept epoch | test accuracy "
          f"| {args.target:.0%} test reached | {args.target:.0%} validation reached | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for side, runs in sides.items():
        if not runs:
            continue
        def column(form, runs=runs):
            return ", ".join(form.format(**r) for r in runs)
        print(f"| {names[side]} | {median[side]:.1f} s | {column('{train_seconds:.1f}')} "
              f"| {column('{wall:.1f}')} | {column('{kept_epoch}/{epochs}')} "
              f"| {column('{test_accuracy:.4f}')} "
              f"| {reached(runs, 'test_target')} | {reached(runs, 'validation_target')} "
              f"| {max(r['rss'] for r in runs):.0f} |")
    print()
    for side in ("plain", "fixed"):
        if sides[side]:
            print(f"Python ({names[side].split(', ', 1)[1]}) / mlc, training loop: "
                  f"{median[side] / median['mlc']:.2f}x")
            print("  Python's test accuracy after each epoch: " + "; ".join(
                ", ".join(f"{a:.4f}" for a in run["per_epoch_test"]) for run in sides[side]))


if __name__ == "__main__":
    main()
