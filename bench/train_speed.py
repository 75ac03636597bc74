#!/usr/bin/python3
"""mlc train beside the plain PyTorch loop (peer_train.py), alternated in one run.

Three sides, alternated: mlc, the Python peer as a user runs it, and the Python peer with the
OPENBLAS_CORETYPE that mlc sets for itself (so that the part of a ratio that is OpenBLAS's kernel
choice shows). Each round also measures the machine's 2-thread sgemm rate, both ways; for the MLP
and the CNN the driver turns samples/s into GFLOP/s and a fraction of that rate.

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

from benchlib import mlc_blas_coretype, run_measured, sgemm_gflops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conv_flop(out_channels, out_height, out_width, in_channels, kernel):
    return 2 * out_channels * out_height * out_width * in_channels * kernel * kernel


# Multiply-adds x 2 of one sample's forward pass, times 3 for forward and backward (the input
# gradient and the weight gradient each cost a forward), less the first layer's input gradient,
# which nothing needs.
def training_flop(first_layer, other_layers):
    return 2 * first_layer + 3 * sum(other_layers)


TRAINING_FLOP_PER_SAMPLE = {
    "mlp": training_flop(2 * 784 * 256, [2 * 256 * 128, 2 * 128 * 10]),
    "cnn": training_flop(conv_flop(32, 26, 26, 1, 3),
                         [conv_flop(64, 24, 24, 32, 3), 2 * 9216 * 128, 2 * 128 * 10]),
}


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

    coretype = mlc_blas_coretype()
    blas_env = dict(env, OPENBLAS_CORETYPE=coretype) if coretype else env
    mlc_argv = [os.path.abspath(args.mlc), "--json", "train", config, "--name", "bench",
                "--epochs", str(args.epochs), "--threads", str(args.threads),
                "--set", "data.validation_fraction=0.1"] + limit
    peer_argv = ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_train.py"),
                 "--model", args.model, "--epochs", str(args.epochs),
                 "--threads", str(args.threads)] + peer_limit
    sides = {"mlc train": (mlc_argv, env),
             "PyTorch Python loop": (peer_argv, env),
             f"PyTorch Python loop, OPENBLAS_CORETYPE={coretype}": (peer_argv, blas_env)}
    rates = {name: [] for name in sides}
    rss = {name: [] for name in sides}
    sgemm = {"as OpenBLAS chooses": [], f"OPENBLAS_CORETYPE={coretype}": []}
    for _ in range(args.rounds):
        for name, (argv, side_env) in sides.items():
            doc, peak = run(argv, side_env)
            rates[name].append(doc["samples_per_second"])
            rss[name].append(peak)
        sgemm["as OpenBLAS chooses"].append(sgemm_gflops(args.threads, env))
        sgemm[f"OPENBLAS_CORETYPE={coretype}"].append(sgemm_gflops(args.threads, blas_env))

    medians = {name: statistics.median(values) for name, values in rates.items()}
    model = {"mlp": "MLP 784-256-128-10", "cnn": "CNN conv32-conv64-maxpool-dropout-fc128-fc10",
             "lstm": "LSTM 28x28-128", "gru": "GRU 28x28-128",
             "transformer": "transformer 16 patches 7x7, d64, 4 heads, 2 layers"}[args.model]
    images = f"{args.train_limit:,} training images" if args.train_limit else "54,000 training images"
    print(f"{model}, Adam, batch 64, {images}, {args.epochs} epoch(s), {args.threads} threads, "
          f"{args.rounds} alternated rounds, load average {os.getloadavg()[0]:.1f} at the end\n")
    flops = TRAINING_FLOP_PER_SAMPLE.get(args.model)
    print("| | median samples/s | all runs | GFLOP/s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, values in rates.items():
        gflops = f"{medians[name] * flops / 1e9:.0f}" if flops else "-"
        print(f"| {name} | {medians[name]:,.0f} | {', '.join(f'{r:,.0f}' for r in values)} "
              f"| {gflops} | {max(rss[name]):.0f} |")
    mlc = medians["mlc train"]
    print()
    for name in list(rates)[1:]:
        print(f"mlc / {name}: {mlc / medians[name]:.2f}x")
    print(f"\n{args.threads}-thread sgemm (2048x2048 torch.mm), GFLOP/s:")
    for name, values in sgemm.items():
        line = f"- {name}: median {statistics.median(values):.0f} ({', '.join(f'{v:.0f}' for v in values)})"
        if flops:
            line += f"; mlc's training step reaches {mlc * flops / 1e9 / statistics.median(values):.0%} of it"
        print(line)
    if flops:
        print(f"\n(GFLOP/s: samples/s x {flops / 1e6:.1f} MFLOP, the forward and backward FLOP of "
              "one training sample; validation's forward passes are in the time but not counted)")


if __name__ == "__main__":
    main()
