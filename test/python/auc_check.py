"""ROC AUC by scikit-learn for the progressive-metrics test (test/integration/sklearn-auc.test.ts).

usage: auc_check.py FILE N FROM:TO [FROM:TO ...]
FILE holds N float64 scores, then N uint8 labels (little-endian); prints one JSON object
{"sklearn": "<version>", "auc": [roc_auc_score of examples [FROM, TO) for each range]}.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    raw = np.fromfile(path, dtype=np.uint8)
    scores = raw[: 8 * n].view("<f8")
    labels = raw[8 * n : 9 * n]
    out = []
    for r in sys.argv[3:]:
        a, b = (int(x) for x in r.split(":"))
        out.append(float(roc_auc_score(labels[a:b], scores[a:b])))
    print(json.dumps({"sklearn": sklearn.__version__, "auc": out}))


if __name__ == "__main__":
    main()
