#!/usr/bin/env python3
"""Data-parallel training's step time, split into compute and communication (issue 12).

Trains the MLP, the CNN and the transformer of examples/fashion-mnist on a slice of Fashion-MNIST
for one epoch, one thread per rank, global batch 64, on 1, 2 and 4 local ranks (mlc train --nproc
N), ROUNDS times each, alternated. mlc train --json reports train_seconds and, for more than one
rank, distributed.allreduce_seconds (rank 0's time in the gradients' allreduce: transfer plus the
wait for the slowest rank); compute is the rest. Prints the medians as a Markdown table, then the
ring-allreduce projection to 8 and 32 hosts on 10 and 100 Gbit/s (see bench/README.md for the model).

    flock /tmp/mlc-bench.lock python3 bench/distributed_step.py [--mlc build/bin/mlc] [--rounds 3]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Training samples per model: each run takes a few seconds on one thread.
SLICES = {"mlp": 6400, "cnn": 1280, "transformer": 3200}
BATCH = 64
RANKS = (1, 2, 4)
# The cost model's constants (bench/README.md): per-message latency of Gloo over TCP, and links.
LATENCY_S = 50e-6
LINKS_GBIT = (10, 100)
HOSTS = (8, 32)


def config_for(model, directory):
    with open(os.path.join(ROOT, "examples", "fashion-mnist", f"{model}.json")) as f:
        config = json.load(f)
    config.pop("$schema", None)
    config["data"].update({"train_limit": SLICES[model], "test_limit": 100, "validation_fraction": 0})
    config["training"].update({"epochs": 1, "batch_size": BATCH, "threads": 1})
    path = os.path.join(directory, f"{model}.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def train(mlc, config, ranks, home, name):
    argv = [mlc, "--json", "train", config, "--name", name]
    if ranks > 1:
        argv += ["--nproc", str(ranks)]
    env = dict(os.environ, MLC_HOME=home, OMP_WAIT_POLICY="PASSIVE")
    out = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         timeout=600, check=True).stdout
    return json.loads(out)


def parameter_count(home, sha256):
    path = os.path.join(home, "artifacts", "sha256", sha256[:2], sha256)
    code = ("import sys, torch; m = torch.jit.load(sys.argv[1]); "
            "print(sum(p.numel() for p in m.parameters()))")
    return int(subprocess.run(["/usr/bin/python3", "-c", code, path], stdout=subprocess.PIPE,
                              check=True).stdout)


def ring_allreduce_seconds(floats, hosts, gbit):
    """Ring allreduce of `floats` fp32 values: 2(p-1) steps, each moving 1/p of the buffer."""
    size = 4 * floats
    return 2 * (hosts - 1) / hosts * size / (gbit * 1e9 / 8) + 2 * (hosts - 1) * LATENCY_S


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[0]}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as work:
        home = os.path.join(work, "home")
        configs = {model: config_for(model, work) for model in SLICES}
        samples = {}  # (model, ranks) -> [(step_ms, allreduce_ms)]
        parameters = {}
        for round_ in range(args.rounds):
            for model in SLICES:
                for ranks in RANKS:
                    result = train(args.mlc, configs[model], ranks, home, f"{model}-{ranks}-{round_}")
                    steps = math.ceil(result["train_samples"] / BATCH)
                    allreduce = result.get("distributed", {}).get("allreduce_seconds", 0.0)
                    samples.setdefault((model, ranks), []).append(
                        (1000 * result["train_seconds"] / steps, 1000 * allreduce / steps))
                    if model not in parameters:
                        parameters[model] = parameter_count(home, result["checkpoint_sha256"])
                    print(f"{model} {ranks} rank(s): {samples[(model, ranks)][-1]}", file=sys.stderr)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[0]}", file=sys.stderr)

    print("| model | parameters | ranks | step ms | compute ms | allreduce ms | allreduce share |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    compute_1 = {}
    for model in SLICES:
        for ranks in RANKS:
            step = statistics.median(s for s, _ in samples[(model, ranks)])
            comm = statistics.median(c for _, c in samples[(model, ranks)])
            if ranks == 1:
                compute_1[model] = step
            print(f"| {model} | {parameters[model]:,} | {ranks} | {step:.2f} | {step - comm:.2f} | "
                  f"{comm:.2f} | {comm / step:.0%} |")
    print()
    print("Projection: 64 samples per host per step (the global batch grows with the hosts), "
          "compute as one rank on one thread here, no overlap of allreduce with backward.")
    print()
    print("| model | hosts | link | allreduce ms | step ms | efficiency | speed-up vs 1 host |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model in SLICES:
        for hosts in HOSTS:
            for gbit in LINKS_GBIT:
                comm = 1000 * ring_allreduce_seconds(parameters[model], hosts, gbit)
                step = compute_1[model] + comm
                efficiency = compute_1[model] / step
                print(f"| {model} | {hosts} | {gbit} Gbit/s | {comm:.2f} | {step:.2f} | "
                      f"{efficiency:.0%} | {hosts * efficiency:.1f}x |")


if __name__ == "__main__":
    main()
