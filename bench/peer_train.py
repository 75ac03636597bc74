#!/usr/bin/python3
"""The plain PyTorch loop a user would write for examples/fashion-mnist/mlp.json, cnn.json,
lstm.json, gru.json or transformer.json.

Same libtorch (Debian's python3-torch 1.13), same model (standardise, then MLP 784-256-128-10 with
ReLU, or the CNN conv32-conv64-maxpool-dropout-fc128-fc10 of PyTorch's MNIST example, or
torch.nn.LSTM / torch.nn.GRU with 128 hidden units over an image read as 28 steps of 28 features,
classifying from the final hidden state, or torch.nn.TransformerEncoder over 16 patches of 7x7:
d_model 64, 4 heads, 2 pre-norm layers, feed-forward 128, dropout 0.1, a learned positional
embedding and a class token), same optimizer (Adam, lr 1e-3; 2e-3 for the LSTM and GRU), batch 64, the same 54,000-image training split size, data already in
memory as one tensor, batches gathered with index_select, a validation pass after each epoch like
mlc's. Prints one JSON line: {"samples_per_second": ..., "train_seconds": ..., "validation_accuracy": ...}.

Usage: bench/peer_train.py [--model mlp|cnn|lstm|gru|transformer] [--epochs 1] [--threads 2] [--train-limit N]
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


class Recurrent(torch.nn.Module):
    """An image as 28 steps of 28 features through an LSTM or GRU, classified from the final state."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(28, 128, batch_first=True)
        self.output = torch.nn.Linear(128, 10)

    def forward(self, x):
        _, hidden = self.rnn(x.reshape(-1, 28, 28))
        if isinstance(hidden, tuple):  # the LSTM's (h, c)
            hidden = hidden[0]
        return self.output(hidden[-1])


class PatchTransformer(torch.nn.Module):
    """16 patches of 7x7 embedded to 64, a class token and learned positions, 2 pre-norm layers."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Linear(49, 64)
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, 64))
        self.position = torch.nn.Parameter(torch.randn(1, 17, 64) * 0.02)
        self.dropout = torch.nn.Dropout(0.1)
        layer = torch.nn.TransformerEncoderLayer(64, 4, 128, 0.1, batch_first=True, norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(64))
        self.output = torch.nn.Linear(64, 10)

    def forward(self, x):
        patches = x.reshape(-1, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(-1, 16, 49)
        tokens = self.embed(patches)
        tokens = torch.cat([self.cls_token.expand(len(tokens), 1, 64), tokens], 1)
        return self.output(self.encoder(self.dropout(tokens + self.position))[:, 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", choices=["mlp", "cnn", "lstm", "gru", "transformer"], default="mlp")
    parser.add_argument("--train-limit", type=int, default=0, help="first N training images only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    images = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32))
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    if args.train_limit:
        images, labels = images[:args.train_limit], labels[:args.train_limit]
    # The sequence models read [28, 28] images: 28 steps of 28 features, or 7x7 patches.
    images = images.reshape({"mlp": (-1, 784), "cnn": (-1, 1, 28, 28)}.get(args.model, (-1, 28, 28)))
    order = torch.randperm(len(labels))
    held_out = len(labels) // 10
    train_idx, val_idx = order[held_out:], order[:held_out]
    x, y = images[train_idx], labels[train_idx]
    xv, yv = images[val_idx], labels[val_idx]
    mean, std = x.mean(), x.std()

    if args.model == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    elif args.model == "lstm":
        model = Recurrent(torch.nn.LSTM)
    elif args.model == "gru":
        model = Recurrent(torch.nn.GRU)
    elif args.model == "transformer":
        model = PatchTransformer()
    else:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25), torch.nn.Flatten(),
            torch.nn.Linear(9216, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(128, 10))
    lr = 2e-3 if args.model in ("lstm", "gru") else 1e-3  # as the example configs
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
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
