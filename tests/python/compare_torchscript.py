#!/usr/bin/python3
"""Checks an mlc TorchScript export against mlc's own predictions, with Python's torch.

usage: compare_torchscript.py MODEL.pt TEST_IMAGES_IDX[.gz] PREDICTIONS.json [N=100]

Reads the first N images of the IDX file itself (gzip + struct: independent of mlc's reader) as
raw float32 pixels 0..255, runs MODEL.pt under torch.jit.load in eval mode without gradients,
and compares the logits with PREDICTIONS.json, the output of `mlc predict --json`:
{"predictions": [{"logits": [...]}, ...]}, one entry per test image in file order.
Exits 0 if every logit is within 1e-5 and every argmax equal, 1 otherwise (2 on bad usage).
Runs under Debian's /usr/bin/python3 with python3-torch and python3-numpy.
"""

import gzip
import json
import struct
import sys

import numpy
import torch

TOLERANCE = 1e-5
IDX_UNSIGNED_BYTE = 0x08


def read_idx_images(path, count):
    """The first `count` items of an IDX file of unsigned bytes, as float32 [count, dims...]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        zero, type_code, rank = struct.unpack(">HBB", stream.read(4))
        if zero != 0 or type_code != IDX_UNSIGNED_BYTE:
            raise ValueError(f"{path}: not an IDX file of unsigned bytes")
        dims = struct.unpack(f">{rank}I", stream.read(4 * rank))
        count = min(count, dims[0])
        item_size = int(numpy.prod(dims[1:], dtype=numpy.int64))
        data = stream.read(count * item_size)
    if len(data) != count * item_size:
        raise ValueError(f"{path}: truncated, expected {count} items of {item_size} bytes")
    images = numpy.frombuffer(data, dtype=numpy.uint8).reshape((count,) + tuple(dims[1:]))
    return images.astype(numpy.float32)


def read_mlc_logits(path, count):
    with open(path, encoding="utf-8") as stream:
        predictions = json.load(stream)["predictions"]
    if len(predictions) < count:
        raise ValueError(f"{path}: {len(predictions)} predictions, expected at least {count}")
    return numpy.array([entry["logits"] for entry in predictions[:count]], dtype=numpy.float32)


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model_path, images_path, predictions_path = argv[1:4]
    count = int(argv[4]) if len(argv) == 5 else 100

    images = read_idx_images(images_path, count)
    count = images.shape[0]
    expected = read_mlc_logits(predictions_path, count)

    model = torch.jit.load(model_path)
    model.eval()
    with torch.no_grad():
        actual = model(torch.from_numpy(images)).numpy()

    if actual.shape != expected.shape:
        print(f"compare_torchscript: logits of shape {actual.shape}, mlc's are {expected.shape}")
        return 1
    difference = numpy.abs(actual - expected)
    max_difference = float(difference.max()) if difference.size else 0.0
    worst = int(difference.max(axis=1).argmax()) if difference.size else 0
    if max_difference > TOLERANCE:
        print(f"compare_torchscript: sample {worst}: "
              f"max abs diff {max_difference:g} > {TOLERANCE:g}")
        return 1
    mismatched = numpy.nonzero(actual.argmax(axis=1) != expected.argmax(axis=1))[0]
    if mismatched.size:
        first = int(mismatched[0])
        print(f"compare_torchscript: sample {first}: argmax differs "
              f"({int(actual[first].argmax())} vs mlc's {int(expected[first].argmax())})")
        return 1
    print(f"compare_torchscript: {count} samples, max abs diff {max_difference:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
