#!/usr/bin/env python3
"""Writes the example tables from the data scikit-learn bundles (Debian's python3-sklearn):

  breast-cancer.csv.gz  569 tumours, 30 measurements and the diagnosis (malignant or benign):
                        classification, a gzipped CSV with commas
  diabetes.csv          442 patients, age, sex, BMI, blood pressure and six blood serum
                        measurements, and the disease progression one year later: regression,
                        a CSV with semicolons
  *-new.csv             five rows of each without the target, as new data to score

Only the standard library: the files are read, not scikit-learn. Usage: prepare.py OUT_DIR
[SKLEARN_DATA_DIR]; the data directory defaults to scikit-learn's own, found without importing it.
"""
import csv
import gzip
import importlib.util
import io
import os
import sys

BREAST_CANCER_FEATURES = [
    f"{stat}_{name}"
    for stat in ("mean", "se", "worst")
    for name in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                 "concavity", "concave_points", "symmetry", "fractal_dimension")
]
# scikit-learn's names for the ten baseline variables: s1 total serum cholesterol, s2 LDL, s3 HDL,
# s4 total cholesterol / HDL, s5 log of serum triglycerides, s6 blood sugar.
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def sklearn_data_dir():
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin:
        return os.path.join(os.path.dirname(spec.origin), "datasets", "data")
    return "/usr/lib/python3/dist-packages/sklearn/datasets/data"


def breast_cancer(source):
    """Header row: 569,30,malignant,benign; then 30 values and the class index per row."""
    with open(os.path.join(source, "breast_cancer.csv"), newline="") as file:
        reader = csv.reader(file)
        count, width, *class_names = next(reader)
        rows = [row[:-1] + [class_names[int(row[-1])]] for row in reader]
    assert len(rows) == int(count) and all(len(row) == int(width) + 1 for row in rows)
    return BREAST_CANCER_FEATURES + ["diagnosis"], rows


def diabetes(source):
    """Two gzipped files of space-separated numbers: the raw features and the targets."""
    with gzip.open(os.path.join(source, "diabetes_data_raw.csv.gz"), "rt") as file:
        features = [line.split() for line in file if line.strip()]
    with gzip.open(os.path.join(source, "diabetes_target.csv.gz"), "rt") as file:
        targets = [f"{float(line):g}" for line in file if line.strip()]
    assert len(features) == len(targets) == 442
    return DIABETES_FEATURES + ["progression"], [row + [t] for row, t in zip(features, targets)]


def write(path, header, rows, delimiter):
    """A name ending in .gz is gzipped, without a time stamp: the same rows, the same bytes (and
    so the same sha256 in the catalogue) on every run. Written under a temporary name and renamed,
    so that an interrupted make leaves no half file."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode()
    if path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path + ".tmp", "wb") as file:
        file.write(data)
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    source = sys.argv[2] if len(sys.argv) == 3 else sklearn_data_dir()
    if not os.path.isdir(source):
        sys.exit(f"prepare.py: {source}: no such directory; install python3-sklearn "
                 "or name scikit-learn's datasets/data directory")
    os.makedirs(out, exist_ok=True)
    header, rows = breast_cancer(source)
    write(os.path.join(out, "breast-cancer.csv.gz"), header, rows, ",")
    # Two malignant tumours and three benign ones.
    new = [rows[i][:-1] for i in (0, 1, 19, 20, 21)]
    write(os.path.join(out, "breast-cancer-new.csv"), header[:-1], new, ",")
    header, rows = diabetes(source)
    write(os.path.join(out, "diabetes.csv"), header, rows, ";")
    write(os.path.join(out, "diabetes-new.csv"), header[:-1], [r[:-1] for r in rows[:5]], ";")


if __name__ == "__main__":
    main()
