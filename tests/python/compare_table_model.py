#!/usr/bin/python3
"""Checks an mlc TorchScript export of a table model against mlc's own predictions.

usage: compare_table_model.py MODEL.pt TABLE.csv MODEL_INFO.json PREDICTIONS.json

Reads TABLE.csv with Python's csv module and encodes each row as the model's raw input, as a
client would from the model info alone: one float per feature column in feature_names order,
NaN for a missing cell ("", "NA", "NaN"), a categorical column as the index of its value among
the one_hot step's categories (NaN if unknown). Runs MODEL.pt under torch.jit.load in eval mode
and compares with PREDICTIONS.json, the output of `mlc --json predict REF --data TABLE.csv`
(every row, in file order): logits (classification) or value (regression), within 1e-5.
Exits 0 on agreement, 1 otherwise (2 on bad usage).
"""

import csv
import json
import sys

import torch

from table_encoding import encode_rows

TOLERANCE = 1e-5


def encode(rows, header, info):
    return torch.tensor(encode_rows(rows, header, info), dtype=torch.float32)


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model_path, table_path, info_path, predictions_path = argv[1:]
    with open(table_path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = [row for row in reader if row]
    with open(info_path, encoding="utf-8") as stream:
        info = json.load(stream)
    with open(predictions_path, encoding="utf-8") as stream:
        predictions = json.load(stream)["predictions"]
    if len(predictions) != len(rows):
        print(f"{len(predictions)} predictions for {len(rows)} rows", file=sys.stderr)
        return 1
    regression = info.get("task") == "regression"
    expected = torch.tensor(
        [[entry["value"]] if regression else entry["logits"] for entry in predictions],
        dtype=torch.float32)

    model = torch.jit.load(model_path)
    model.eval()
    with torch.no_grad():
        actual = model(encode(rows, header, info))
    difference = (actual - expected).abs().max().item()
    print(f"max |python - mlc| = {difference:.3g} over {len(rows)} rows")
    if not difference <= TOLERANCE:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
