"""Tuned scikit-learn logistic regression, the peer of bench/tune-criteo.ts.

Reads a click log (criteo TSV, or CSV/TSV with a header), one-hot hashes every column
(numerics bucketized as floor(ln(x)^2) for x > 2, as ../shared/data/criteo-10k/README.md),
tunes C on the same time-ordered split lionctr tune uses (the first rows of the tuning part,
the last `holdout_fraction` of them scored), refits on the whole tuning part and scores the
rows after it. Prints one JSON object.

    python bench/tune-lr.py SPEC_JSON
SPEC_JSON: {"path", "format": "criteo"|"csv", "delimiter", "label", "numeric": [...],
            "categorical": [...], "tune_rows", "holdout_fraction"}
"""
import csv
import json
import math
import sys

import numpy as np
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

CS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]


def bucket(v):
    try:
        x = float(v)
    except ValueError:
        return v
    return str(int(math.floor(math.log(x) ** 2))) if x > 2 else str(int(x)) if x == int(x) else v


def rows_of(spec):
    if spec["format"] == "criteo":
        names = ["label"] + [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)]
        with open(spec["path"]) as f:
            for line in f:
                yield dict(zip(names, line.rstrip("\n").split("\t")))
    else:
        with open(spec["path"], newline="") as f:
            yield from csv.DictReader(f, delimiter=spec.get("delimiter", ","))


def main():
    spec = json.loads(sys.argv[1])
    label = spec.get("label", "label")
    feats, ys = [], []
    for r in rows_of(spec):
        toks = [f"{c}={bucket(r[c])}" for c in spec["numeric"] if r.get(c, "") != ""]
        toks += [f"{c}={r[c]}" for c in spec["categorical"] if r.get(c, "") != ""]
        feats.append(toks)
        ys.append(int(float(r[label])))
    X = FeatureHasher(2**20, input_type="string", alternate_sign=False).transform(feats).tocsr()
    y = np.array(ys)
    n = spec["tune_rows"]
    tr = n - round(n * spec["holdout_fraction"])
    fit = lambda c, a, b: LogisticRegression(C=c, solver="liblinear", max_iter=1000).fit(X[a:b], y[a:b])
    val = {c: roc_auc_score(y[tr:n], fit(c, 0, tr).predict_proba(X[tr:n])[:, 1]) for c in CS}
    best = max(CS, key=lambda c: val[c])
    p = fit(best, 0, n).predict_proba(X[n:])[:, 1]
    out = {"C": best, "val_auc": val[best], "auc": roc_auc_score(y[n:], p), "logloss": log_loss(y[n:], p),
           "examples": int(len(y) - n), "grid": {str(c): round(v, 4) for c, v in val.items()}}
    print(json.dumps(out))


main()
