#!/usr/bin/env python3
"""Checks `mlc --json compare A B` against an independent computation on the same samples.

Usage: check_compare.py COMPARE_JSON PREDICT_A_JSON PREDICT_B_JSON

PREDICT_*_JSON are `mlc --json predict REF --limit 0` (with the same --data as the compare): each
sample's prediction and target. Classifiers: the discordant counts and McNemar's exact p-value
(scipy.stats.binomtest on them); regression: the paired t-test on squared errors
(scipy.stats.ttest_rel). The side-by-side differences must be b - a.
"""
import json
import math
import sys

from scipy import stats


def fail(message):
    print(f"check_compare: {message}", file=sys.stderr)
    sys.exit(1)


def close(a, b, rel=1e-6, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    compare = json.load(open(sys.argv[1]))
    rows_a = json.load(open(sys.argv[2]))["predictions"]
    rows_b = json.load(open(sys.argv[3]))["predictions"]
    test = compare["test"]
    if len(rows_a) != len(rows_b) or len(rows_a) != compare["data"]["samples"] or test["samples"] != len(rows_a):
        fail(f"sample counts: compare {compare['data']['samples']}, predictions {len(rows_a)} and {len(rows_b)}")
    if [r["target"] for r in rows_a] != [r["target"] for r in rows_b]:
        fail("the two predictions are not on the same samples")
    for metric in compare["metrics"]:
        if metric["a"] is not None and metric["b"] is not None:
            if not close(metric["difference"], metric["b"] - metric["a"], 1e-9, 1e-12):
                fail(f"difference of {metric['name']}: {metric}")

    if "label" in rows_a[0]:
        right_a = [r["label"] == r["target"] for r in rows_a]
        right_b = [r["label"] == r["target"] for r in rows_b]
        only_a = sum(a and not b for a, b in zip(right_a, right_b))
        only_b = sum(b and not a for a, b in zip(right_a, right_b))
        if test["name"] != "mcnemar_exact" or (test["only_a_right"], test["only_b_right"]) != (only_a, only_b):
            fail(f"McNemar counts: mlc {test}, Python ({only_a}, {only_b})")
        p = 1.0 if only_a + only_b == 0 else stats.binomtest(only_a, only_a + only_b, 0.5).pvalue
        if not close(test["p_value"], p, 1e-9):
            fail(f"McNemar p: mlc {test['p_value']}, scipy {p}")
        print(f"ok - McNemar: {only_a} only A right, {only_b} only B right, p = {p:.6g} (scipy agrees)")
    else:
        squared_a = [(r["value"] - r["target"]) ** 2 for r in rows_a]
        squared_b = [(r["value"] - r["target"]) ** 2 for r in rows_b]
        result = stats.ttest_rel(squared_a, squared_b)
        # mlc keeps squared errors at float precision; predict prints values as float32 too.
        if test["name"] != "paired_t" or not close(test["statistic"], result.statistic, 1e-4) \
                or not close(test["p_value"], result.pvalue, 1e-3, 1e-12):
            fail(f"paired t: mlc {test}, scipy t = {result.statistic}, p = {result.pvalue}")
        print(f"ok - paired t-test: t = {result.statistic:.6g}, p = {result.pvalue:.6g} (scipy agrees)")


if __name__ == "__main__":
    main()
