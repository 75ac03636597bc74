#!/usr/bin/python3
"""mlc train beside the plain PyTorch loop (peer_train.py), alternated in one run.

Both train the Fashion-MNIST MLP of examples/fashion-mnist/mlp.json (or cnn.json, lstm.json, ...) for
the same epochs and threads; each side reports samples/s over its training loop (data loading
excluded, each epoch's validation pass included). Reports medians and the ratio, plus each side's
peak RSS.

Usage: bench/train_speed.py [--model mlp|cnn|lstm|gru|transformer] [--mlc build/bin/mlc]
                            [--rounds 3] [--epochs 1] [--threads 2] [--train-limit N]
"""
import argparse
import json
import os
import statistics
import tempfile

from benchlib import run_measured

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, env):
    """(parsed JSON of stdout, peak RSS in MiB) of one run."""
    out, _, usage = run_measured(argv, env)
    return json.loads(out), usage.ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlc", default=os.path.join(ROOT, "build", "bin", "mlc"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", choices=["mlp", "cnn", "lstm", "gru", "transformer"], default="mlp")
    parser.add_argument("--train-limit", type=int, default=0, help="first N training images only")
    args = parser.parse_args()
    env = dict(os.environ, MLC_HOME=tempfile.mkdtemp(prefix="mlc-bench-"), MLC_ACTOR="bench")
    config = os.path.join(ROOT, "examples", "fashion-mnist", f"{args.model}.json")
    limit = ["--set", f"data.train_limit={args.train_limit}"] if args.train_limit else []
    peer_limit = ["--train-limit", str(args.train_limit)] if args.train_limit else []

    mlc_rates, peer_rates, mlc_rss, peer_rss = [], [], [], []
    for _ in range(args.rounds):
        doc, rss = run([os.path.abspath(args.mlc), "--json", "train", config, "--name", "bench",
                        "--epochs", str(args.epochs), "--threads", str(args.threads),
                        "--set", "data.validation_fraction=0.1"] + limit, env)
        mlc_rates.append(doc["samples_per_second"]); mlc_rss.append(rss)
        doc, rss = run(["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_train.py"),
                        "--model", args.model, "--epochs", str(args.epochs),
                        "--threads", str(args.threads)] + peer_limit, env)
        peer_rates.append(doc["samples_per_second"]); peer_rss.append(rss)

    mlc_median, peer_median = statistics.median(mlc_rates), statistics.median(peer_rates)
    model = {"mlp": "MLP 784-256-128-10", "cnn": "CNN conv32-conv64-maxpool-dropout-fc128-fc10",
             "lstm": "LSTM 28x28-128", "gru": "GRU 28x28-128",
             "transformer": "transformer 16 patches 7x7, d64, 4 heads, 2 layers"}[args.model]
    images = f"{args.train_limit:,} training images" if args.train_limit else "54,000 training images"
    print(f"{model}, Adam, batch 64, {images}, {args.epochs} epoch(s), {args.threads} threads, "
          f"{args.rounds} alternated rounds\n")
    print("| | median samples/s | all runs | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| mlc train | {mlc_median:,.0f} | {', '.join(f'{r:,.0f}' for r in mlc_rates)} | {max(mlc_rss):.0f} |")
    print(f"| PyTorch Python loop | {peer_median:,.0f} | {', '.join(f'{r:,.0f}' for r in peer_rates)} | {max(peer_rss):.0f} |")
    print(f"\nmlc / Python: {mlc_median / peer_median:.2f}x")


if __name__ == "__main__":
    main()
