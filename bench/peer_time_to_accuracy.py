#!/usr/bin/python3
"""The recipe of examples/fashion-mnist/cnn-91.json as a plain PyTorch user would write it, with the
test accuracy after every epoch: the Python side of bench/time_to_accuracy.py.

What it takes from mlc's semantics (read from the config, so that a changed recipe stays the same
on both sides):
- data: the IDX files, all in memory as one float tensor; the validation split is
  round(validation_fraction * 60,000) training images drawn with data.split_seed (the schema's
  default 0, not training.seed), the very same images as mlc's (its Fisher-Yates over
  mt19937_64, re-implemented below), the rest train;
- inputs standardised by one mean and one (population) std over all pixels of the training split
  (mlc's Standardize for images: global, not per pixel);
- the layers of model.layers as torch.nn modules with PyTorch's default initialisation, then the
  output Linear(features, 10) that mlc appends;
- AdamW (betas 0.9/0.999, eps 1e-8, the config's rate and weight decay); the rate of epoch e is
  CosineAnnealingLR's with T_max = epochs stepped once per epoch (base rate in epoch 1), times a
  linear warmup over the first warmup_steps optimizer steps ((step + 1) / warmup_steps);
- batch_size with the last, smaller batch kept, a fresh permutation each epoch, batches gathered
  with index_select, cross-entropy loss, threads from the config, torch.manual_seed(seed);
- after each epoch a validation pass in eval mode (as mlc's trainer does), then a test pass over
  the 10,000 test images.

The clock: `train_seconds` is the sum over epochs of the training batches plus that epoch's
validation pass, as mlc's train_seconds is. The test pass after each epoch is outside the clock
(mlc does not run it at all while training). Data loading and model building are outside it too
(`load_seconds`). An epoch's `seconds` is the clock at its end.

Prints one JSON document: the per-epoch record, the epoch kept (lowest validation loss, as mlc's
default `training.keep = best`) and its test accuracy, and the first epoch whose test accuracy
reaches --target.

Usage: bench/peer_time_to_accuracy.py [--config examples/fashion-mnist/cnn-91.json] [--target 0.91]
                                      [--epochs N] [--train-limit N]
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def mt19937_64(seed):
    """std::mt19937_64's output sequence (its constants from the C++ standard)."""
    mask = (1 << 64) - 1
    n, m = 312, 156
    state = [seed & mask]
    for i in range(1, n):
        state.append((6364136223846793005 * (state[-1] ^ (state[-1] >> 62)) + i) & mask)
    index = n
    while True:
        if index >= n:
            for i in range(n):
                x = (state[i] & 0xFFFFFFFF80000000) | (state[(i + 1) % n] & 0x7FFFFFFF)
                y = x >> 1
                if x & 1:
                    y ^= 0xB5026F5AA96619E9
                state[i] = state[(i + m) % n] ^ y
            index = 0
        y = state[index]
        index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        yield y


def mlc_split(count, fraction, seed):
    """(training indices, validation indices) as mlc's lib/data draws them from `count` images."""
    indices = list(range(count))
    rng = mt19937_64(seed)
    for i in range(count, 1, -1):
        j = next(rng) % i
        indices[i - 1], indices[j] = indices[j], indices[i - 1]
    held_out = int(math.floor(fraction * count + 0.5))
    return sorted(indices[held_out:]), sorted(indices[:held_out])


def build_model(layers, classes):
    """torch.nn modules for model.layers, then the output layer mlc appends."""
    modules, channels, flat = [], 1, None
    size = 28
    for layer in layers:
        kind = layer["type"]
        if kind == "conv2d":
            padding, kernel, stride = layer.get("padding", 0), layer["kernel_size"], layer.get("stride", 1)
            modules.append(torch.nn.Conv2d(channels, layer["out_channels"], kernel, stride=stride,
                                           padding=padding, bias=layer.get("bias", True)))
            channels, size = layer["out_channels"], (size + 2 * padding - kernel) // stride + 1
        elif kind == "batch_norm":
            norm = torch.nn.BatchNorm2d if flat is None else torch.nn.BatchNorm1d
            modules.append(norm(channels if flat is None else flat, eps=layer.get("eps", 1e-5),
                                momentum=layer.get("momentum", 0.1)))
        elif kind == "relu":
            modules.append(torch.nn.ReLU())
        elif kind == "max_pool2d":
            kernel, padding = layer["kernel_size"], layer.get("padding", 0)
            stride = layer.get("stride", kernel)
            modules.append(torch.nn.MaxPool2d(kernel, stride=stride, padding=padding))
            size = (size + 2 * padding - kernel) // stride + 1
        elif kind == "flatten":
            modules.append(torch.nn.Flatten())
            flat = channels * size * size
        elif kind == "dropout":
            modules.append(torch.nn.Dropout(layer["p"]))
        elif kind == "linear":
            modules.append(torch.nn.Linear(flat, layer["out_features"]))
            flat = layer["out_features"]
        else:
            raise SystemExit(f"peer_time_to_accuracy.py: layer type {kind} is not translated")
    modules.append(torch.nn.Linear(flat, classes))
    return torch.nn.Sequential(*modules)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config",
                        default=os.path.join(ROOT, "examples", "fashion-mnist", "cnn-91.json"))
    parser.add_argument("--target", type=float, default=0.91, help="test accuracy to reach")
    parser.add_argument("--epochs", type=int, help="override training.epochs (quick checks)")
    parser.add_argument("--train-limit", type=int,
                        help="first N training images only, as data.train_limit (quick checks)")
    args = parser.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    data, training = config["data"], config["training"]
    assert config["model"]["architecture"] == "cnn" and data["format"] == "idx"
    optimizer_config, schedule = training["optimizer"], training.get("schedule", {})
    assert optimizer_config["name"] == "adamw" and schedule.get("name", "cosine") == "cosine"
    epochs, batch_size, seed = training["epochs"], training["batch_size"], training["seed"]
    epochs = args.epochs or epochs
    train_limit = args.train_limit or data.get("train_limit")
    base_rate = optimizer_config["learning_rate"]
    minimum_rate = schedule.get("min_learning_rate", 0.0)
    warmup_steps = schedule.get("warmup_steps", 0)

    loading = time.perf_counter()
    torch.set_num_threads(training.get("threads", 2))
    torch.manual_seed(seed)
    images = torch.from_numpy(read_idx(data["train_images"]).astype(np.float32)).unsqueeze(1)
    labels = torch.from_numpy(read_idx(data["train_labels"]).astype(np.int64))
    if train_limit:
        images, labels = images[:train_limit], labels[:train_limit]
    test_x = torch.from_numpy(read_idx(data["test_images"]).astype(np.float32)).unsqueeze(1)
    test_y = torch.from_numpy(read_idx(data["test_labels"]).astype(np.int64))
    train_idx, val_idx = mlc_split(len(labels), data.get("validation_fraction", 0.1),
                                   data.get("split_seed", 0))
    x, y = images[train_idx], labels[train_idx]
    xv, yv = images[val_idx], labels[val_idx]
    pixels = x.double()
    mean, std = pixels.mean().float(), pixels.std(unbiased=False).float()
    del pixels

    model = build_model(config["model"]["layers"], len(data.get("class_names", range(10))))
    optimizer = torch.optim.AdamW(model.parameters(), lr=base_rate, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=optimizer_config.get("weight_decay", 0.01))
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    batches = (len(y) + batch_size - 1) // batch_size
    load_seconds = time.perf_counter() - loading

    def rate(epoch, step):
        progress = (epoch - 1) / epochs if epochs > 1 else 0.0
        value = minimum_rate + (base_rate - minimum_rate) * (1 + math.cos(math.pi * progress)) / 2
        return value * (step + 1) / warmup_steps if step < warmup_steps else value

    def predict(features):
        model.eval()
        with torch.no_grad():
            return torch.cat([model((features[i:i + 1024] - mean) / std)
                              for i in range(0, len(features), 1024)])

    clock, record, test_seconds = 0.0, [], 0.0
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        perm = torch.randperm(len(y), generator=order)
        loss_sum = 0.0
        for batch in range(batches):
            for group in optimizer.param_groups:
                group["lr"] = rate(epoch, (epoch - 1) * batches + batch)
            chosen = perm[batch * batch_size:(batch + 1) * batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model((x.index_select(0, chosen) - mean) / std), y.index_select(0, chosen))
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(chosen)
        outputs = predict(xv)
        validation_loss = loss_fn(outputs, yv).item()
        validation_accuracy = (outputs.argmax(1) == yv).double().mean().item()
        clock += time.perf_counter() - started

        testing = time.perf_counter()
        test_accuracy = (predict(test_x).argmax(1) == test_y).double().mean().item()
        test_seconds += time.perf_counter() - testing
        record.append({"epoch": epoch, "seconds": clock, "train_loss": loss_sum / len(y),
                       "validation_loss": validation_loss,
                       "validation_accuracy": validation_accuracy, "test_accuracy": test_accuracy})

    kept = min(record, key=lambda e: e["validation_loss"])
    reached = next((e for e in record if e["test_accuracy"] >= args.target), None)
    print(json.dumps({
        "train_samples": len(y), "validation_samples": len(yv), "test_samples": len(test_y),
        "standardization": {"mean": mean.item(), "std": std.item()},
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "load_seconds": load_seconds, "train_seconds": clock, "test_seconds": test_seconds,
        "epochs": record, "best_epoch": kept["epoch"], "test_accuracy": kept["test_accuracy"],
        "target": args.target, "target_epoch": reached["epoch"] if reached else None,
        "target_seconds": reached["seconds"] if reached else None}))


if __name__ == "__main__":
    main()
