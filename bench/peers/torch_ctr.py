"""PyTorch peer of lionctr's model for `npm run bench` (bench/suite.ts): a worker that reads one
JSON command per line on stdin and answers one JSON line on stdout.

The model is lionctr's (src/model/ctr-model.ts, src/model/tower.ts): 39 slots (26 categorical
+ 13 bucketised numerics) whose rows hold W = 1 + D floats (column 0 the slot's linear "wide"
weight, columns 1..D the embedding), logit = sum of the 39 wide weights + MLP(concat(39 x D
embeddings, 13 numerics ln(1 + max(x, 0)))), MLP [256, 128] ReLU, Glorot-uniform weights, zero
biases, the output bias started at the logit of the first batch's CTR; mean logloss.
All slots share one table of `rows` rows (slot f owns rows [f R/39, (f + 1) R/39)), one gather
per step (the usual PyTorch layout, as in DLRM's offsets).

Optimizer: Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Alg. 2):
    c = b1 m + (1 - b1) g;  p <- p - lr (sign(c) + wd p);  m <- b2 m + (1 - b2) g
dense on the tower; on the table lazily, as lionctr's `lazy` sparse mode: gradients of duplicate
rows summed first (sign is non-linear), only the touched rows and their momentum change.

Commands: {"cmd": "run", "mode": "ids"|"raw", "batch", "rows", "seconds", "minSteps",
"maxSteps", "idsFile" | "rawFile"}, {"cmd": "auc", "file", "trainRows", "epochs", "batch",
"rows", "hp"}, {"cmd": "quit"}. Raw input is parsed by pandas' C reader in chunks and hashed
with pandas' vectorised SipHash (pd.util.hash_array), never a Python loop per row.
"""

import json
import math
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

NUM, CAT, D, HIDDEN = 13, 26, 16, [256, 128]
SLOTS, W = NUM + CAT, 1 + D
PHASES = ["source", "featurize", "lookup", "forward", "backward", "dense", "sparse"]
DEFAULT_HP = {"dense": [1e-4, 0.1], "embedding": [3e-3, 0.0], "linear": [3e-3, 0.0], "bias": [3e-3, 0.0],
              "beta1": 0.9, "beta2": 0.99, "initStd": 0.01}


class Model:
    """Table [rows, W] + momentum, the tower's parameters + momentum, the Lion settings."""

    def __init__(self, rows, hp, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.per = rows // SLOTS
        a = math.sqrt(3) * hp["initStd"]  # lionctr: uniform with std initStd, column 0 at 0
        self.table = (torch.rand(self.per * SLOTS, W, generator=g) * 2 - 1) * a
        self.table[:, 0] = 0
        self.mom = torch.zeros_like(self.table)
        sizes, self.params = [CAT * D + NUM * D + NUM] + HIDDEN + [1], []
        for i in range(len(sizes) - 1):
            lim = math.sqrt(6 / (sizes[i] + sizes[i + 1]))
            self.params.append(((torch.rand(sizes[i], sizes[i + 1], generator=g) * 2 - 1) * lim).requires_grad_())
            self.params.append(torch.zeros(sizes[i + 1], requires_grad=True))
        self.pmom = [torch.zeros_like(p) for p in self.params]
        n = len(self.params)
        self.plr = [hp["bias"] if i == n - 1 else hp["dense"] for i in range(n)]
        cols = torch.tensor([hp["linear"]] + [hp["embedding"]] * D)  # per column: lr, wd
        self.col_lr, self.col_wd = cols[:, 0], cols[:, 1]
        self.b1, self.b2 = hp["beta1"], hp["beta2"]
        self.offsets = (torch.arange(SLOTS) * self.per).view(1, SLOTS)
        self.steps = 0

    def logits(self, e, dense):
        """e [B, 39, W] gathered rows, dense [B, 13] -> logits [B]."""
        x = torch.cat([e[:, :, 1:].reshape(e.shape[0], -1), dense], 1)
        h = x
        for i in range(0, len(self.params), 2):
            h = h @ self.params[i] + self.params[i + 1]
            if i + 2 < len(self.params):
                h = torch.relu(h)
        return h.view(-1) + e[:, :, 0].sum(1)

    def step(self, idx, dense, y, t):
        """One training step on slot-local ids idx [B, 39] (int64); t: phase -> seconds (added to)."""
        c = time.perf_counter
        a = c()
        rows = (idx + self.offsets).view(-1)
        e = self.table.index_select(0, rows).view(-1, SLOTS, W).requires_grad_()
        b = c()
        if self.steps == 0:
            ctr = min(1 - 1e-3, max(1e-3, float(y.mean())))
            with torch.no_grad():
                self.params[-1].fill_(math.log(ctr / (1 - ctr)))
        loss = F.binary_cross_entropy_with_logits(self.logits(e, dense), y)
        loss_value = loss.detach()
        d = c()
        loss.backward()
        f = c()
        with torch.no_grad():
            for p, m, (lr, wd) in zip(self.params, self.pmom, self.plr):
                lion(p, m, p.grad, lr, wd, self.b1, self.b2)
                p.grad = None
        g = c()
        with torch.no_grad():
            uniq, inv = torch.unique(rows, return_inverse=True)
            gs = torch.zeros(len(uniq), W).index_add_(0, inv, e.grad.view(-1, W))
            w, m = self.table.index_select(0, uniq), self.mom.index_select(0, uniq)
            lion(w, m, gs, self.col_lr, self.col_wd, self.b1, self.b2)
            self.table.index_copy_(0, uniq, w)
            self.mom.index_copy_(0, uniq, m)
        h = c()
        self.steps += 1
        for k, v in zip(PHASES[2:], [b - a, d - b, f - d, g - f, h - g]):
            t[k] += v
        return loss_value.item()

    def predict(self, idx, dense):
        with torch.no_grad():
            e = self.table.index_select(0, (idx + self.offsets).view(-1)).view(-1, SLOTS, W)
            return torch.sigmoid(self.logits(e, dense)).numpy()


def lion(p, m, g, lr, wd, b1, b2):
    """Lion in place (Chen et al. 2023, Alg. 2; decoupled weight decay scaled by lr as there)."""
    c = m * b1 + g * (1 - b1)
    p.sub_(lr * (torch.sign(c) + wd * p))
    m.mul_(b2).add_(g, alpha=1 - b2)


def featurize(df, per):
    """A pandas chunk of Criteo rows (label, I1..I13, C1..C26) -> (ids [B, 39] int64, dense [B, 13], y [B])."""
    y = torch.from_numpy(df[0].to_numpy(np.float32, copy=True))
    num = df.iloc[:, 1:1 + NUM].to_numpy(np.float64)
    dense = torch.from_numpy(np.log1p(np.maximum(np.nan_to_num(num, nan=0.0), 0)).astype(np.float32))
    # numeric buckets as lionctr's numericBucket: floor(ln(x)^2) above 2, the value itself at or below, missing apart
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket = np.where(num > 2, 2.0**40 + np.floor(np.log(num) ** 2), num)
    bucket = np.where(np.isnan(num), -(2.0**41), bucket).astype(np.int64)
    ids = np.empty((len(df), SLOTS), np.int64)
    per64 = np.uint64(per)
    for c in range(CAT):  # one vectorised hash per column (26 calls per batch, not one per row)
        col = df[1 + NUM + c].to_numpy(object)
        ids[:, c] = (pd.util.hash_array(col, hash_key=f"slot{c:012d}") % per64).astype(np.int64)
    for n in range(NUM):
        h = pd.util.hash_array(bucket[:, n].view(np.uint64), hash_key=f"num{n:013d}")
        ids[:, CAT + n] = (h % per64).astype(np.int64)
    return torch.from_numpy(ids), dense, y


def reader(path, batch, skip=0, nrows=None):
    """pandas' chunked C reader over a Criteo TSV: label and I* as float, C* as strings."""
    dtypes = {i: np.float32 for i in range(1 + NUM)} | {i: object for i in range(1 + NUM, 1 + NUM + CAT)}
    return pd.read_csv(path, sep="\t", header=None, dtype=dtypes, chunksize=batch, skiprows=skip, nrows=nrows,
                       na_filter=True, engine="c")


class Worker:
    def __init__(self):
        self.key, self.model, self.ids = None, None, None

    def model_for(self, rows, mode):
        if self.key != (rows, mode):
            self.model = None  # let the old table go first
            self.model, self.key = Model(rows, DEFAULT_HP), (rows, mode)
        return self.model

    def batches(self, cmd):
        """Endless batches of the command's input: pre-made (ids, dense, y), or raw pandas chunks."""
        if cmd["mode"] == "ids":
            if self.ids is None or self.ids[0] != cmd["idsFile"]:
                self.ids = (cmd["idsFile"], load_ids(cmd["idsFile"]))
            k = 0
            while True:
                yield self.ids[1][k % len(self.ids[1])]
                k += 1
        while True:
            for df in reader(cmd["rawFile"], cmd["batch"]):
                if len(df) == cmd["batch"]:
                    yield df

    def run(self, cmd):
        """Trains one warm-up step, then at least minSteps and `seconds`, at most maxSteps; the figures."""
        m = self.model_for(cmd["rows"], cmd["mode"])
        per, raw, gen = cmd["rows"] // SLOTS, cmd["mode"] == "raw", self.batches(cmd)
        t, pc = dict.fromkeys(PHASES, 0.0), time.perf_counter
        steps = n = 0
        warm = True
        while True:
            a = pc()
            b = next(gen)
            s = pc()
            if raw:
                b = featurize(b, per)
            f = pc()
            m.step(b[0], b[1], b[2], t)
            if warm:  # the clocks start after the warm-up step
                warm, t0, c0, t = False, pc(), time.process_time(), dict.fromkeys(PHASES, 0.0)
                continue
            t["source"] += s - a
            t["featurize"] += f - s
            steps, n = steps + 1, n + len(b[2])
            wall = pc() - t0
            if steps >= cmd["maxSteps"] or (steps >= cmd["minSteps"] and wall >= cmd["seconds"]):
                break
        cpu = time.process_time() - c0
        return {"examplesPerSecond": n / wall, "steps": steps, "examples": n, "wallS": wall, "cpuS": cpu,
                "coresBusy": cpu / wall, "split": {k: 1000 * v / steps for k, v in t.items()},
                "threads": torch.get_num_threads()}

    def auc(self, cmd):
        hp = DEFAULT_HP | cmd.get("hp", {})
        m = Model(cmd["rows"], hp)
        per, t = m.per, dict.fromkeys(PHASES, 0.0)
        for _ in range(cmd["epochs"]):
            for df in reader(cmd["file"], cmd["batch"], nrows=cmd["trainRows"]):
                ids, dense, y = featurize(df, per)
                m.step(ids, dense, y, t)
        p, y = [], []
        for df in reader(cmd["file"], 4096, skip=cmd["trainRows"]):
            ids, dense, yy = featurize(df, per)
            p.append(m.predict(ids, dense))
            y.append(yy.numpy())
        p, y = np.concatenate(p), np.concatenate(y)
        return {"auc": auc(p, y), "examples": int(len(y)), "rows": m.per * SLOTS}


def load_ids(path):
    """The suite's pre-made batches (bench/suite/ids-file.ts): header int32 [n, B, 39, 13], then per batch
    ids int32 [B, 39], dense float32 [B, 13], labels float32 [B]."""
    raw = np.fromfile(path, dtype=np.uint8)
    n, B, S, N = np.frombuffer(raw[:16], np.int32)
    out, o = [], 16
    for _ in range(n):
        ids = np.frombuffer(raw[o:o + B * S * 4], np.int32).reshape(B, S).astype(np.int64)
        o += B * S * 4
        dense = np.frombuffer(raw[o:o + B * N * 4], np.float32).reshape(B, N).copy()
        o += B * N * 4
        y = np.frombuffer(raw[o:o + B * 4], np.float32).copy()
        o += B * 4
        out.append((torch.from_numpy(ids), torch.from_numpy(dense), torch.from_numpy(y)))
    return out


def auc(p, y):
    """ROC AUC by the rank-sum (Mann-Whitney U) with average ranks for ties."""
    r = pd.Series(p).rank(method="average").to_numpy()
    pos = y > 0.5
    npos, nneg = pos.sum(), (~pos).sum()
    return float((r[pos].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    w = Worker()
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        try:
            out = w.run(cmd) if cmd["cmd"] == "run" else w.auc(cmd)
        except Exception as e:  # noqa: BLE001 -- reported to the suite, which prints it
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
