#!/usr/bin/python3
"""The plain PyTorch loop a user would write for examples/fashion-mnist/mlp.json or cnn.json.

Same libtorch (Debian's python3-torch 1.13), same model (standardise, then MLP 784-256-128-10 with
ReLU, or the CNN conv32-conv64-maxpool-dropout-fc128-fc10 of PyTorch's MNIST example), same
optimizer (Adam, lr 1e-3), batch 64, the same 54,000-image training split size, data already in
memory as one tensor, batches gathered with index_select, a validation pass after each epoch like
mlc's. Prints one JSON line: {"samples_per_second": ..., "train_seconds": ..., "validation_accuracy": ...}.

Usage: bench/peer_train.py [--model mlp|cnn] [--epochs 1] [--threads 2] [--train-limit N]
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
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--train-limit", type=int, default=0, help="first N training images only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    images = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32))
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    if args.train_limit:
        images, labels = images[:args.train_limit], labels[:args.train_limit]
    images = images.reshape(-1, 784) if args.model == "mlp" else images.reshape(-1, 1, 28, 28)
    order = torch.randperm(len(labels))
    held_out = len(labels) // 10
    train_idx, val_idx = order[held_out:], order[:held_out]
    x, y = images[train_idx], labels[train_idx]
    xv, yv = images[val_idx], labels[val_idx]
    mean, std = x.mean(), x.std()

    if args.model == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    else:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25), torch.nn.Flatten(),
            torch.nn.Linear(9216, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(128, 10))
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
            correct = sum((model((xv[i:i + 1024] - mean) / std).argmax(1) == yv[i:i + 1024]).sum().item()
                          for i in range(0, len(yv), 1024))
            val_accuracy = correct / len(yv)
    seconds = time.perf_counter() - start
    print(json.dumps({"samples_per_second": args.epochs * len(y) / seconds, "train_seconds": seconds,
                      "validation_accuracy": val_accuracy}))


if __name__ == "__main__":
    main()
