"""Checks every metric `mlc eval` recorded against an independent computation on the same outputs.

Usage: check_eval_metrics.py SHOW_JSON PREDICT_JSON [EXPECTED_TOP_K]

SHOW_JSON is `mlc --json show REF` after `mlc eval REF`; PREDICT_JSON is `mlc --json predict REF
--limit 0`: the model's output for every sample of the same test split. Classification is checked
with scikit-learn (classification_report, confusion_matrix, f1_score, top_k_accuracy_score,
log_loss) and a hand-written expected calibration error (15 equal-width confidence bins, Guo et al.
2017); regression with numpy's quantiles and scikit-learn's regression metrics. EXPECTED_TOP_K: the
K of the topK_accuracy mlc should have recorded (0: none). Prints one line per check; exits 1 on
the first difference, naming the metric and both values.
"""
import json
import sys

import numpy as np
from sklearn.metrics import (classification_report, confusion_matrix, f1_score, log_loss,
                             mean_absolute_error, mean_squared_error, r2_score,
                             top_k_accuracy_score)

EXACT = 1e-12     # counts and ratios of counts: the same arithmetic in double precision
CLOSE = 1e-9      # sums over samples of values computed from FP32 logits in double precision
LOSS = 1e-5       # mlc's loss is libtorch's FP32 cross-entropy / squared error


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def expect(recorded, name, value, tolerance):
    if name not in recorded:
        fail(f"mlc recorded no '{name}' (it recorded {sorted(recorded)})")
    if abs(recorded[name] - value) > tolerance * max(1.0, abs(value)):
        fail(f"{name}: mlc {recorded[name]!r}, independent {value!r}")


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def expected_calibration_error(probabilities, y_true, bins=15):
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    # Bin b (1-based) holds confidences in ((b-1)/bins, b/bins].
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return error


def check_classification(evaluation, rows, expected_top_k):
    recorded = evaluation["metrics"]
    details = evaluation["details"]
    names = details["class_names"]
    labels = list(range(len(names)))
    y_true = np.array([names.index(row["target"]) for row in rows])
    logits = np.array([row["logits"] for row in rows], dtype=np.float32).astype(np.float64)
    y_pred = logits.argmax(axis=1)
    if not np.array_equal(y_pred, [row["class"] for row in rows]):
        fail("predict's classes are not the argmax of its logits")

    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    if details["confusion_matrix"] != matrix.tolist():
        fail(f"confusion matrix: mlc {details['confusion_matrix']}, sklearn {matrix.tolist()}")
    print(f"ok - confusion matrix ({len(names)} classes, {len(rows)} samples)")

    report = classification_report(y_true, y_pred, labels=labels, target_names=names,
                                   output_dict=True, zero_division=0)
    for name in names:
        for metric, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"),
                            ("support", "support")):
            expect(recorded, f"{metric}[{name}]", float(report[name][key]), EXACT)
    print(f"ok - precision, recall, f1 and support of every class (classification_report)")

    expect(recorded, "f1_macro", f1_score(y_true, y_pred, average="macro", zero_division=0), EXACT)
    expect(recorded, "f1_weighted", f1_score(y_true, y_pred, average="weighted", zero_division=0), EXACT)
    expect(recorded, "accuracy", float((y_pred == y_true).mean()), EXACT)
    probabilities = softmax(logits)
    expect(recorded, "loss", log_loss(y_true, probabilities, labels=labels), LOSS)
    print("ok - f1_macro, f1_weighted (f1_score), accuracy, loss (log_loss)")

    top_k = [name for name in recorded if name.startswith("top") and name.endswith("_accuracy")]
    if expected_top_k:
        if top_k != [f"top{expected_top_k}_accuracy"]:
            fail(f"expected top{expected_top_k}_accuracy, mlc recorded {top_k}")
        expect(recorded, top_k[0],
               top_k_accuracy_score(y_true, logits, k=expected_top_k, labels=labels), EXACT)
        print(f"ok - {top_k[0]} (top_k_accuracy_score)")
    elif top_k:
        fail(f"expected no top-k accuracy, mlc recorded {top_k}")

    ece = expected_calibration_error(probabilities, y_true)
    expect(recorded, "ece", ece, CLOSE)
    print(f"ok - ece {ece:.6f} (15 equal-width bins)")

    per_class = {f"{m}[{n}]" for m in ("precision", "recall", "f1", "support") for n in names}
    expected = per_class | {"accuracy", "loss", "f1_macro", "f1_weighted", "ece"} | set(top_k)
    if set(recorded) != expected:
        fail(f"metric names: unexpected {sorted(set(recorded) - expected)}, "
             f"missing {sorted(expected - set(recorded))}")
    print(f"ok - exactly the {len(expected)} documented metric names")


def check_regression(evaluation, rows):
    recorded = evaluation["metrics"]
    if evaluation["details"] is not None:
        fail(f"a regression evaluation has details: {evaluation['details']}")
    # The model's outputs and the targets are FP32; mlc subtracts them in double precision.
    predicted = np.array([row["value"] for row in rows], dtype=np.float32).astype(np.float64)
    actual = np.array([row["target"] for row in rows], dtype=np.float32).astype(np.float64)
    residuals = actual - predicted
    for percent in (5, 25, 50, 75, 95):
        expect(recorded, f"residual_p{percent:02d}", float(np.quantile(residuals, percent / 100)), CLOSE)
    print("ok - residual quantiles p05 p25 p50 p75 p95 (numpy.quantile)")
    expect(recorded, "rmse", mean_squared_error(actual, predicted) ** 0.5, LOSS)
    expect(recorded, "mae", mean_absolute_error(actual, predicted), LOSS)
    expect(recorded, "r2", r2_score(actual, predicted), LOSS)
    expect(recorded, "loss", mean_squared_error(actual, predicted), LOSS)
    print("ok - rmse, mae, r2, loss (sklearn.metrics)")
    expected = {"loss", "rmse", "mae", "r2"} | {f"residual_p{p:02d}" for p in (5, 25, 50, 75, 95)}
    if set(recorded) != expected:
        fail(f"metric names: {sorted(recorded)}")


def main():
    with open(sys.argv[1]) as f:
        show = json.load(f)
    with open(sys.argv[2]) as f:
        rows = json.load(f)["predictions"]
    expected_top_k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    evaluation = show["evaluation"]
    if evaluation["samples"] != len(rows):
        fail(f"eval measured {evaluation['samples']} samples, predict returned {len(rows)}")
    if show["model_info"]["task"] == "classification":
        check_classification(evaluation, rows, expected_top_k)
    else:
        check_regression(evaluation, rows)


if __name__ == "__main__":
    main()
