#!/usr/bin/python3
"""Wall time for mlc to train examples/fashion-mnist/cnn-91.json from scratch, and the test accuracy
the version reaches: the whole `mlc train` process (start, data loading, training, recording the
version), then `mlc eval` on the 10,000 test images.

Usage: bench/time_to_accuracy.py [--mlc build/bin/mlc] [--config examples/fashion-mnist/cnn-91.json]
"""
import argparse
import json
import os
import subprocess
import tempfile

from benchlib import run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--config",
                        default=os.path.join(ROOT, "examples", "fashion-mnist", "cnn-91.json"))
    args = parser.parse_args()
    env = dict(os.environ, MLC_HOME=tempfile.mkdtemp(prefix="mlc-bench-"), MLC_ACTOR="bench")
    mlc = os.path.abspath(args.mlc)

    out, wall, usage = run_measured([mlc, "--json", "train", args.config, "--name", "t2a"], env)
    trained = json.loads(out)
    evaluated = json.loads(subprocess.run([mlc, "--json", "eval", "t2a"], env=env, check=True,
                                          capture_output=True).stdout)
    print(f"config: {os.path.relpath(args.config, ROOT)}\n")
    print("| wall (train process) | training loop | epochs | test accuracy | peak RSS MiB |")
    print("|---|---|---|---|---|")
    print(f"| {wall:.1f} s | {trained['train_seconds']:.1f} s | {len(trained['metrics']['epochs'])} "
          f"| {evaluated['metrics']['accuracy']:.4f} | {usage.ru_maxrss / 1024:.0f} |")


if __name__ == "__main__":
    main()
