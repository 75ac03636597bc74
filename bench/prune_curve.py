#!/usr/bin/python3
"""mlc export --variant prune on the Fashion-MNIST MLP: the accuracy/size curve (issue 9 item 4).

mlc trains examples/fashion-mnist/mlp.json (784-256-128-10; --epochs E overrides its 5), evaluates
it, then for each fraction F makes `--variant prune --fraction F` with and without
`--finetune-epochs 1` (the config's own optimizer, learning rate, batch size and seed on the
training split). mlc measures every variant beside the fp32 export on the 10,000 test images in the
same process: accuracy, file size, median ms per sample at batch 1 and 64 on one thread.

    bench/prune_curve.py [--epochs 5] [--fractions 0.25,0.5,0.75]

MLC_BIN names the mlc binary (default build/bin/mlc; it loads ../lib/mlc/libmlc_compute.so beside
it): a copy keeps a long run safe from a rebuild of the build tree meanwhile.

Prints a Markdown table for bench/README.md, the load average before and after, and whether the
issue's aim holds: the 50%-pruned MLP after one fine-tune epoch at most 0.5 points below fp32.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLC = os.environ.get("MLC_BIN", os.path.join(ROOT, "build", "bin", "mlc"))


def mlc(*args, env):
    done = subprocess.run([MLC, "--json", *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"mlc {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def row(label, parameters, measured, delta, seconds):
    delta_text = "" if delta is None else f"{delta * 100:+.2f}"
    return (f"| {label} | {parameters:,} | {measured['size_bytes'] / 1024:.0f} | "
            f"{measured['metrics']['accuracy']:.4f} | {delta_text} | {measured['latency_batch1_ms']:.4f} | "
            f"{measured['latency_batch64_ms']:.4f} | {seconds} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--fractions", default="0.25,0.5,0.75")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    print("| variant | parameters | size KiB | test accuracy | delta (points) | ms/sample batch 1 | "
          "ms/sample batch 64 | export s |")
    print("|---|---|---|---|---|---|---|---|")
    aim = None
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, MLC_HOME=os.path.join(work, "home"))
        config = os.path.join(ROOT, "examples", "fashion-mnist", "mlp.json")
        version = mlc("train", config, "--name", "mlp", "--epochs", str(args.epochs), env=env)["version"]
        ref = f"mlp:{version}"
        mlc("eval", ref, env=env)
        first = True
        for fraction in args.fractions.split(","):
            for finetune in (0, 1):
                name = f"prune{round(float(fraction) * 100)}-ft{finetune}"
                began = time.monotonic()
                variant = mlc("export", ref, "--variant", "prune", "--fraction", fraction,
                              "--finetune-epochs", str(finetune), "--variant-name", name,
                              env=env)["variant"]
                seconds = f"{time.monotonic() - began:.0f}"
                details = variant["details"]
                if first:
                    print(row("fp32", details["parameters_before"], variant["fp32"], None, ""))
                    first = False
                label = f"prune {fraction}" + (", 1 fine-tune epoch" if finetune else "")
                print(row(label, details["parameters_after"], variant["variant"],
                          variant["deltas"]["accuracy"], seconds))
                sys.stdout.flush()
                if float(fraction) == 0.5 and finetune == 1:
                    aim = variant["deltas"]["accuracy"] * 100
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    if aim is not None:
        verdict = "met" if aim >= -0.5 else "not met"
        print(f"aim (50% pruned + 1 fine-tune epoch at most 0.5 points below fp32): {aim:+.2f} points, "
              f"{verdict}", file=sys.stderr)


if __name__ == "__main__":
    main()
