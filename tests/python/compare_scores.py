#!/usr/bin/python3
"""Checks `mlc --json predict REF --input ...` against Python's torch.jit.load of the export.

usage: compare_scores.py MODEL.pt MANIFEST.json FEATURES SCORES.json

FEATURES is what was scored, read here independently of mlc: a CSV table (encoded from the
manifest alone, as a client would: one float per feature column found by name, NaN for a missing
cell "", "NA" or "NaN", a categorical column as the index of its value among the one_hot step's
categories, NaN if unknown) or an IDX file of images (raw pixel values). Runs MODEL.pt in eval
mode and compares, row by row: logits (or the predicted value) within 1e-5, probabilities with
softmax(logits) within 1e-5, predicted_index with argmax and predicted_label with the manifest's
labels. Exits 0 on agreement, 1 otherwise (2 on bad usage).
"""

import csv
import json
import struct
import sys

import torch

from table_encoding import encode_rows

TOLERANCE = 1e-5


def table_rows(path, manifest):
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = [row for row in reader if row]
    return torch.tensor(encode_rows(rows, header, manifest), dtype=torch.float32)


def idx_images(path):
    with open(path, "rb") as stream:
        data = stream.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    pixels = torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8)
    return pixels.reshape(shape).to(torch.float32)


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model_path, manifest_path, features_path, scores_path = argv[1:]
    with open(manifest_path, encoding="utf-8") as stream:
        manifest = json.load(stream)
    with open(scores_path, encoding="utf-8") as stream:
        scores = json.load(stream)["predictions"]
    inputs = table_rows(features_path, manifest) if features_path.endswith(".csv") \
        else idx_images(features_path)
    if len(scores) != inputs.shape[0]:
        print(f"{len(scores)} scores for {inputs.shape[0]} rows", file=sys.stderr)
        return 1
    model = torch.jit.load(model_path)
    model.eval()
    with torch.no_grad():
        expected = model(inputs)
    regression = manifest.get("task") == "regression"
    difference = 0.0
    for row, score in enumerate(scores):
        if regression:
            difference = max(difference, abs(score["predicted_value"] - expected[row, 0].item()))
            continue
        logits = torch.tensor(score["logits"], dtype=torch.float32)
        probabilities = torch.tensor(score["probabilities"], dtype=torch.float32)
        difference = max(difference, (logits - expected[row]).abs().max().item(),
                         (probabilities - torch.softmax(expected[row], 0)).abs().max().item())
        if score["predicted_index"] != int(expected[row].argmax()) or \
                score["predicted_label"] != manifest["labels"][score["predicted_index"]]:
            print(f"row {row}: predicted {score['predicted_index']} {score['predicted_label']}, "
                  f"torch.jit.load says {int(expected[row].argmax())}", file=sys.stderr)
            return 1
    print(f"max |python - mlc| = {difference:.3g} over {len(scores)} rows")
    return 0 if difference <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
