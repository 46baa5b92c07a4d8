#!/usr/bin/env python3
"""Reproduce lionctr's predictions from an export directory alone.

    python repro.py EXPORT_DIR INSTANCES.jsonl   ->   {"predictions": [p, ...]} on stdout

EXPORT_DIR is a version directory (it holds manifest.json) or an exports root (its LATEST
file names the version). INSTANCES.jsonl holds one JSON object {slot: value} per line ("-"
reads stdin), as the "instances" of a :predict request.

Everything follows the manifest's "featurization" (written by lionctr, see its
src/model/featurization.ts): the token of each slot value, its XXH64 id, the row of that id
in the slot's Arrow table, the tower input layout, the ONNX tower, and the output formula.
Needs only the standard library, numpy, pyarrow, onnxruntime and xxhash: no lionctr code.
Every file read is checked against its sha256 in the manifest.
"""

import hashlib
import json
import math
import os
import re
import sys
from decimal import Decimal

import numpy as np
import onnxruntime as ort
import pyarrow.ipc as ipc
import xxhash

FEATURIZATION_VERSION = "lionctr-featurization/1"
# ECMAScript StrWhiteSpaceChar: WhiteSpace (TAB VT FF ZWNBSP and every Zs) and LineTerminator
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z", re.ASCII)
JS_RADIX = {"x": 16, "o": 8, "b": 2}
JS_RADIX_DIGITS = {16: r"[0-9a-fA-F]+", 8: r"[0-7]+", 2: r"[01]+"}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BadInstance(ValueError):
    """An instance the server would answer with 400."""


def js_number_to_string(x: float) -> str:
    """ECMAScript Number::toString(x) (JavaScript String(x)) of a finite float."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number_to_string(-x)
    _, digits, exp = Decimal(repr(x)).as_tuple()  # repr: the shortest digits that round-trip
    s = "".join(map(str, digits))
    stripped = s.rstrip("0")
    exp += len(s) - len(stripped)
    s, k = stripped, len(stripped)
    n = k + exp  # x = s * 10^(n - k)
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def js_string_to_number(text: str) -> float:
    """ECMAScript Number(text) (StringToNumber); NaN when it is not a numeric literal."""
    t = text.strip(JS_WHITESPACE)
    if t == "":
        return 0.0
    if re.fullmatch(r"[+-]?Infinity", t):
        return -math.inf if t[0] == "-" else math.inf
    if JS_DECIMAL.match(t):
        return float(t)
    if len(t) > 2 and t[0] == "0" and t[1].lower() in JS_RADIX:
        radix = JS_RADIX[t[1].lower()]
        if re.fullmatch(JS_RADIX_DIGITS[radix], t[2:]):
            try:
                return float(int(t[2:], radix))
            except OverflowError:
                return math.inf
    return math.nan


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_float(v) -> float:
    try:
        return float(v)
    except OverflowError:  # an integer beyond float64: JavaScript reads Infinity
        return math.inf


def categorical_token(v):
    """The token of a categorical value (featurization.categorical), None when missing."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if is_number(v) and math.isfinite(as_float(v)):
        return js_number_to_string(as_float(v))
    raise BadInstance(f"categorical slot must be a string or number, got {json.dumps(v)}")


def numeric_value(v):
    """The value x of a numeric slot (featurization.numeric.accepts), None when missing."""
    if v is None or v == "":
        return None
    if is_number(v):
        x = as_float(v)
    elif isinstance(v, str) and v.strip(JS_WHITESPACE) != "":
        x = js_string_to_number(v)
    else:
        x = math.nan
    if not math.isfinite(x):
        raise BadInstance(f"numeric slot must be a finite number, got {json.dumps(v)}")
    return x


def numeric_token(x, rule) -> str:
    """featurization.numeric.token: log bucket above the threshold, the raw value otherwise."""
    if x > rule["threshold"]:
        y = math.log(x)
        return rule["log_prefix"] + str(math.floor(y * y))
    return rule["raw_prefix"] + js_number_to_string(x)


def token_bytes(token: str) -> bytes:
    """UTF-8 as TextEncoder writes it: a lone surrogate becomes U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", token).encode("utf-8")


def weights_as_float32(stored, dtype: str):
    """Table weights as stored (manifest weight_dtype) widened to float32, exactly."""
    want = {"float32": np.float32, "float16": np.float16, "bfloat16": np.uint16}.get(dtype)
    if want is None or stored.dtype != want:
        raise SystemExit(f"weight_dtype {dtype!r}: vector items are {stored.dtype}")
    if dtype == "bfloat16":  # Arrow has no bfloat16: Uint16 of the top 16 bits of a float32
        return (stored.astype(np.uint32) << 16).view(np.float32)
    return stored.astype(np.float32)


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


class Export:
    """One export version: manifest, verified files, the slots' tables and the ONNX tower."""

    def __init__(self, path: str):
        if not os.path.exists(os.path.join(path, "manifest.json")):
            with open(os.path.join(path, "LATEST"), encoding="utf-8") as f:
                path = os.path.join(path, f.read().strip())
        self.dir = path
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.fz = self.manifest["featurization"]
        if self.fz["version"] != FEATURIZATION_VERSION:
            raise SystemExit(f"unknown featurization {self.fz['version']!r}, this reader knows {FEATURIZATION_VERSION}")
        if self.fz["hash"]["function"] != "xxh64":
            raise SystemExit(f"unknown hash {self.fz['hash']['function']!r}")
        self.seeds = {}
        self.tables = {}
        for slot in self.fz["slots"]:
            name = slot["name"]
            seed = xxhash.xxh64_intdigest(name.encode("utf-8"), seed=self.fz["hash"]["slot_seed_seed"])
            if str(seed) != slot["seed"]:
                raise SystemExit(f"slot {name}: seed {seed} differs from the manifest's {slot['seed']}")
            self.seeds[name] = seed
            table = ipc.open_file(self.read(self.fz["tables"]["path"].replace("<slot>", name))).read_all()
            width = self.fz["tables"]["dims"][name] + 1
            ids = table.column("id").to_numpy()
            stored = table.column("vector").combine_chunks().flatten().to_numpy().reshape(-1, width)
            vectors = weights_as_float32(stored, self.manifest.get("weight_dtype", "float32"))
            self.tables[name] = ({int(i): r for r, i in enumerate(ids.tolist())}, vectors.astype(np.float64), width)
        tower = self.fz["tower"]
        self.session = ort.InferenceSession(self.read(tower["onnx"]), providers=["CPUExecutionProvider"])

    def read(self, rel: str) -> bytes:
        """The bytes of a file of the version, checked against manifest.files."""
        with open(os.path.join(self.dir, rel), "rb") as f:
            data = f.read()
        want = self.manifest["files"].get(rel)
        if want is None or hashlib.sha256(data).hexdigest() != want:
            raise SystemExit(f"{rel}: not listed in the manifest or its sha256 differs")
        return data

    def featurize(self, inst: dict):
        """(tower input row [I] float32, wide float64) of one instance."""
        fz = self.fz
        if not isinstance(inst, dict):
            raise BadInstance("each instance must be an object of {slot: value}")
        names = {s["name"] for s in fz["slots"]}
        # "unknown_slots": reject (an error) or ignore (dropped); exports older than the field reject
        if fz.get("unknown_slots", "reject") == "reject":
            for key in inst:
                if key not in names:
                    raise BadInstance(f'unknown slot "{key}"')
        missing = fz["hash"]["missing_token"]
        dense_rule = fz["numeric"]["dense"]
        embedding, dense, wide = {}, {}, 0.0
        for slot in fz["slots"]:
            name = slot["name"]
            value = inst.get(name)
            if slot["type"] == "categorical":
                token = categorical_token(value)
            else:
                x = numeric_value(value)
                token = None if x is None else numeric_token(x, fz["numeric"]["token"])
                dense[name] = dense_rule["missing"] if x is None else math.log1p(max(x, 0.0))
            key = xxhash.xxh64_intdigest(token_bytes(missing if token is None else token), seed=self.seeds[name])
            rows, vectors, width = self.tables[name]
            r = rows.get(key)
            row = np.zeros(width) if r is None else vectors[r]
            wide += float(row[0])
            embedding[name] = row[1:]
        x = np.zeros(fz["tower_input"]["width"], dtype=np.float32)
        for part in fz["tower_input"]["layout"]:
            if part["source"] == "embedding":
                lo, hi = part["columns"]
                x[lo:hi] = embedding[part["slot"]]
            else:
                x[part["column"]] = dense[part["slot"]]
        return x, wide

    def predict(self, instances: list) -> list:
        rows = []
        for i, inst in enumerate(instances):
            try:
                rows.append(self.featurize(inst))
            except BadInstance as e:
                raise BadInstance(f"instances[{i}]: {e}") from None
        x = np.stack([r[0] for r in rows]).astype(np.float32)
        tower = self.fz["tower"]
        deep = self.session.run([tower["output"]], {tower["input"]: x})[0].astype(np.float64)
        logit = deep + np.array([r[1] for r in rows])
        if self.fz["output"]["fm"]:
            parts = [p["columns"] for p in self.fz["tower_input"]["layout"] if p["source"] == "embedding"]
            e = np.stack([x[:, lo:hi] for lo, hi in parts], axis=1).astype(np.float64)  # [B, F, D]
            logit += 0.5 * (np.square(e.sum(axis=1)) - np.square(e).sum(axis=1)).sum(axis=1)
        q = 1.0 / (1.0 + np.exp(-logit))
        # output.negative_rate r < 1: trained on a log whose negatives were kept with probability r
        r = float(self.fz["output"].get("negative_rate", 1))
        return (q if r == 1 else q / (q + (1.0 - q) / r)).tolist()


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    export = Export(argv[1])
    source = sys.stdin if argv[2] == "-" else open(argv[2], encoding="utf-8")
    instances = []
    with source:
        for line in source:
            if line.strip():
                instances.append(json.loads(line, parse_constant=reject_constant))
    try:
        predictions = export.predict(instances)
    except BadInstance as e:
        raise SystemExit(f"bad instance: {e}")
    json.dump({"model_version": export.manifest["version"], "predictions": predictions}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
