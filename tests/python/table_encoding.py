"""Raw CSV rows as an exported table model's FP32 input, encoded from its manifest (or model
info) alone, as a client would, independently of mlc: one float per feature column in
feature_names order, NaN for a missing cell ("", "NA", "NaN"), a categorical column as the index
of its value among the one_hot step's categories (NaN if unknown). Torch-free, so that the
serving checks can use it without loading torch."""

import math

MISSING = {"", "NA", "NaN"}


def encode_rows(rows, header, description):
    """A list of rows of floats, for `rows` of cells under `header`."""
    categories = {}
    for step in description["preprocessing"]["steps"]:
        if step["op"] == "one_hot":
            for column in step["columns"]:
                categories[column["name"]] = column["categories"]
    positions = [header.index(feature) for feature in description["feature_names"]]
    encoded = []
    for row in rows:
        values = []
        for feature, position in zip(description["feature_names"], positions):
            cell = row[position]
            if cell in MISSING:
                values.append(math.nan)
            elif feature in categories:
                known = categories[feature]
                values.append(float(known.index(cell)) if cell in known else math.nan)
            else:
                values.append(float(cell))
        encoded.append(values)
    return encoded
