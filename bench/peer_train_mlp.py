#!/usr/bin/python3
"""The plain PyTorch loop a user would write for examples/fashion-mnist/mlp.json.

Same libtorch (Debian's python3-torch 1.13), same model (standardise, 784-256-128-10, ReLU), same
optimizer (Adam, lr 1e-3), batch 64, the same 54,000-image training split size, data already in
memory as one tensor, batches gathered with index_select, a validation pass after each epoch like
mlc's. Prints one JSON line: {"samples_per_second": ..., "train_seconds": ..., "test_accuracy": ...}.

Usage: bench/peer_train_mlp.py [--epochs 1] [--threads 2]
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(f"{DATA}/{name}", "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    images = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32)).reshape(-1, 784)
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    order = torch.randperm(len(labels))
    train_idx, val_idx = order[6000:], order[:6000]
    x, y = images[train_idx], labels[train_idx]
    xv, yv = images[val_idx], labels[val_idx]
    mean, std = x.mean(), x.std()

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            batch = perm[i:i + 64]
            optimizer.zero_grad()
            loss = loss_fn(model((x.index_select(0, batch) - mean) / std), y.index_select(0, batch))
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_accuracy = (model((xv - mean) / std).argmax(1) == yv).float().mean().item()
    seconds = time.perf_counter() - start
    print(json.dumps({"samples_per_second": args.epochs * len(y) / seconds, "train_seconds": seconds,
                      "validation_accuracy": val_accuracy}))


if __name__ == "__main__":
    main()
