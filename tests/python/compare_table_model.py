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
import math
import sys

import torch

TOLERANCE = 1e-5
MISSING = {"", "NA", "NaN"}


def encode(rows, header, info):
    categories = {}
    for step in info["preprocessing"]["steps"]:
        if step["op"] == "one_hot":
            for column in step["columns"]:
                categories[column["name"]] = column["categories"]
    positions = [header.index(name) for name in info["feature_names"]]
    encoded = []
    for row in rows:
        values = []
        for name, position in zip(info["feature_names"], positions):
            cell = row[position]
            if cell in MISSING:
                values.append(math.nan)
            elif name in categories:
                known = categories[name]
                values.append(float(known.index(cell)) if cell in known else math.nan)
            else:
                values.append(float(cell))
        encoded.append(values)
    return torch.tensor(encoded, dtype=torch.float32)


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
