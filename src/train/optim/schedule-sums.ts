/**
 * Partial products and sums of an lr schedule, for the closed-form catch-up of sparse Lion
 * rows under a step-dependent lr (DESIGN.md "Lion, sparse-aware", `exact` and `decayed`).
 *
 * With lr_s = lr * mult(s) and a_s = 1 - lr_s * wd, k idle steps first..e-1 (e = first + k)
 * do to a coordinate:  theta <- A theta - D sign(m), where
 *   A = prod_{s=first}^{e-1} a_s,    D = sum_{s=first}^{e-1} lr_s prod_{s'=s+1}^{e-1} a_{s'}.
 * Both come from per-step prefix arrays in O(1) within one segment of Z steps:
 *   P[t] = prod_{u<t} a_u,  Q[t] = sum_{u<t} lr_u / P[u+1]   (u, t relative to the segment start),
 *   A = P[e]/P[f],  D = P[e] (Q[e] - Q[f]);
 * the prefixes restart at every segment so that P never underflows (a^Z stays far above
 * float64's range even for lr wd = 0.3), and a range spanning segments folds the pieces with
 * (A1, D1) then (A2, D2) = (A1 A2, D1 A2 + D2), O(k / Z). Float64 throughout: the result
 * equals walking the idle steps one by one to about 1e-15 relative.
 *
 * Memory: 16 bytes per step (two float64) per parameter group, up to the step where the
 * schedule turns constant (`lrAt.constantFrom`, see schedule.ts; e.g. 495 steps for
 * inverse-sqrt with timescale 5 and floor 0.1). Steps from there on use the constant-lr
 * closed form A = a^k, D = lr (1 - a^k) / (1 - a) (k lr when wd = 0), so a long-running
 * trainer keeps a bounded table. A schedule that never turns constant (inverse-sqrt with
 * floor 0) keeps growing.
 */
import type { LionParams } from './lion-config.ts';
import type { LrFunction } from './schedule.ts';

const Z = 1024;

/**
 * The exact-mode sign drift of k idle steps at a constant lr: sum_{i<k} lr a^i with
 * a = 1 - lr wd, i.e. lr (1 - a^k) / (1 - a), or k lr when wd = 0 (sparse-lion.ts module doc).
 * @param ak a^k, which the caller has at hand.
 */
export function constantLrDrift(lr: number, wd: number, k: number, ak: number): number {
  // 1 - a as the callers' a = 1 - lr wd rounds it (not lr wd), so results stay bit for bit
  return wd === 0 ? k * lr : (lr * (1 - ak)) / (1 - (1 - lr * wd));
}

export class ScheduleSums {
  /** Per segment: P and Q prefixes, Z + 1 entries each (P[0] = 1, Q[0] = 0). */
  private readonly P: Float64Array[] = [];
  private readonly Q: Float64Array[] = [];
  /** Steps covered so far (prefixes are exact for steps < this). */
  private covered = 0;

  /** First step of the schedule's constant tail (Infinity: none). */
  private readonly tail: number;

  /** @param lrAt lr multiplier of step s (the schedule); @param p the group's lr and weight decay. */
  constructor(
    private readonly lrAt: LrFunction,
    private readonly p: Pick<LionParams, 'lr' | 'weightDecay'>,
  ) {
    this.tail = lrAt.constantFrom ?? Infinity;
  }

  /** Steps whose prefixes are stored (16 bytes each). */
  get stepsStored(): number {
    return this.covered;
  }

  private extend(upTo: number): void {
    while (this.covered < upTo) {
      const g = Math.floor(this.covered / Z),
        t = this.covered - g * Z;
      if (t === 0) {
        this.P.push(new Float64Array(Z + 1).fill(1, 0, 1));
        this.Q.push(new Float64Array(Z + 1));
      }
      const P = this.P[g],
        Q = this.Q[g];
      const lr = this.p.lr * this.lrAt(this.covered),
        a = 1 - lr * this.p.weightDecay;
      P[t + 1] = P[t] * a;
      Q[t + 1] = Q[t] + lr / P[t + 1];
      this.covered++;
    }
  }

  /**
   * The decay product A and drift D of the k steps first..first+k-1 (see the module doc).
   * @returns [A, D]; [1, 0] for k <= 0.
   */
  range(first: number, k: number): [number, number] {
    if (k <= 0) return [1, 0];
    // [first, e) from the prefixes, [e, end) in the constant tail
    const end = first + k,
      e = Math.max(first, Math.min(end, this.tail));
    if (e > first) this.extend(e);
    let A = 1,
      D = 0;
    for (let s = first; s < e; ) {
      const g = Math.floor(s / Z),
        base = g * Z;
      const f = s - base,
        t = Math.min(e - base, Z);
      const P = this.P[g],
        Q = this.Q[g];
      const a2 = P[t] / P[f],
        d2 = P[t] * (Q[t] - Q[f]);
      D = D * a2 + d2;
      A *= a2;
      s = base + t;
    }
    if (end > e) {
      // the constant tail: closed form, folded on as one more piece
      const n = end - e,
        lr = this.p.lr * this.lrAt(e),
        a = 1 - lr * this.p.weightDecay;
      const a2 = a ** n,
        d2 = constantLrDrift(lr, this.p.weightDecay, n, a2);
      D = D * a2 + d2;
      A *= a2;
    }
    return [A, D];
  }
}

const cache = new WeakMap<LrFunction, WeakMap<object, ScheduleSums>>();

/** The ScheduleSums of a (schedule function, parameter group) pair, made once and kept. */
export function scheduleSumsFor(lrAt: LrFunction, p: LionParams): ScheduleSums {
  let byGroup = cache.get(lrAt);
  if (!byGroup) {
    byGroup = new WeakMap();
    cache.set(lrAt, byGroup);
  }
  let s = byGroup.get(p);
  if (!s) {
    s = new ScheduleSums(lrAt, p);
    byGroup.set(p, s);
  }
  return s;
}
