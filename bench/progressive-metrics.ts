/**
 * Progressive-validation cost per example: the streaming metrics (src/train/evaluation/progressive.ts:
 * O(1) per example, O(K) per read) against the previous approach, ring buffers re-sorted at every
 * progress tick (binary-metrics.ts evalFigures over the window), at windows 10^5 and 10^6.
 *
 *   npx tsx bench/progressive-metrics.ts [--examples 3000000] [--tick 65536] [--slots 2]
 *
 * Each approach takes the same seeded stream in batches of 4096 and reads its figures every `tick`
 * examples (a progress line: ~1 s of training at 65k examples/s); printed: ns per example for the
 * adds, ms per read, ns per example all in, and the ratio old / new. `--slots S` adds a streaming
 * run with S sliced slots (20 values each + other).
 */
import { parseArgs } from 'node:util';
import { evalFigures } from '../src/train/evaluation/binary-metrics.ts';
import { ProgressiveMetrics } from '../src/train/evaluation/progressive.ts';
import { SliceKeys } from '../src/train/evaluation/slice-keys.ts';
import { loadavg } from 'node:os';

const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '3000000' },
    tick: { type: 'string', default: '65536' },
    slots: { type: 'string', default: '2' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/progressive-metrics.ts [--examples 3000000] [--tick 65536] [--slots 2]');
  process.exit(0);
}
const M = Number(values.examples),
  TICK = Number(values.tick),
  SLOTS = Number(values.slots),
  B = 4096;

/** The previous ProgressiveMetrics: ring buffers, evalFigures (a sort of the window) at every read. */
class SortPerTick {
  private readonly p: Float64Array;
  private readonly y: Float64Array;
  private head = 0;
  private filled = 0;
  constructor(readonly window: number) {
    this.p = new Float64Array(window);
    this.y = new Float64Array(window);
  }
  add(pred: ArrayLike<number>, labels: ArrayLike<number>): void {
    for (let i = 0; i < pred.length; i++) {
      this.p[this.head] = pred[i];
      this.y[this.head] = labels[i];
      this.head = (this.head + 1) % this.window;
    }
    this.filled = Math.min(this.window, this.filled + pred.length);
  }
  figures() {
    return evalFigures(this.p, this.y, this.filled);
  }
}

// the stream: float32 predictions, labels, and F = SLOTS feature ids per example (20 hot values + a tail)
let s = 12345;
const rnd = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 4294967296;
};
const pred = new Float32Array(M),
  labels = new Float32Array(M);
const F = Math.max(1, SLOTS);
const idHi = new Uint32Array(M * F),
  idLo = new Uint32Array(M * F);
for (let i = 0; i < M; i++) {
  const z = -2.5 + 1.2 * (rnd() + rnd() + rnd() - 1.5) * 2;
  labels[i] = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  pred[i] = 1 / (1 + Math.exp(-(z + (rnd() - 0.5))));
  for (let f = 0; f < F; f++) idHi[i * F + f] = rnd() < 0.9 ? Math.floor(rnd() * 20) : Math.floor(rnd() * 1e6);
}
const rows = { getChild: () => ({ get: (r: number) => `v${r}` }) };

/** Runs `add` over the stream, `read` every TICK examples: ns/example of adds, ms/read. */
function measure(add: (from: number, to: number) => void, read: () => unknown) {
  let addNs = 0,
    readNs = 0,
    reads = 0,
    next = TICK;
  for (let from = 0; from < M; from += B) {
    const to = Math.min(M, from + B);
    const t0 = process.hrtime.bigint();
    add(from, to);
    addNs += Number(process.hrtime.bigint() - t0);
    if (to >= next) {
      const t1 = process.hrtime.bigint();
      read();
      readNs += Number(process.hrtime.bigint() - t1);
      reads++;
      next += TICK;
    }
  }
  return { add: addNs / M, read: readNs / reads / 1e6, all: (addNs + readNs) / M };
}

console.log(`progressive metrics, ${M} examples, batch ${B}, a read every ${TICK} examples`);
console.log(`load average (1 min) ${loadavg()[0].toFixed(2)}`);
console.log('window    approach                       add ns/ex  read ms  all ns/ex  MB');
for (const W of [100_000, 1_000_000]) {
  const old = new SortPerTick(W);
  const o = measure(
    (a, b) => old.add(pred.subarray(a, b), labels.subarray(a, b)),
    () => old.figures(),
  );
  const pm = new ProgressiveMetrics(W);
  const n = measure(
    (a, b) => pm.add(pred.subarray(a, b), labels.subarray(a, b)),
    () => [pm.figures(), pm.lifetime()],
  );
  const keys = Array.from({ length: SLOTS }, (_, f) => new SliceKeys(`S${f}`, f, 20));
  const sl = new ProgressiveMetrics(W, keys);
  const batch = (a: number, b: number) => ({
    size: b - a,
    labels: labels.subarray(a, b),
    idHi: idHi.subarray(a * F, b * F),
    idLo: idLo.subarray(a * F, b * F),
  });
  const x = SLOTS
    ? measure(
        (a, b) => sl.addBatch(pred.subarray(a, b), batch(a, b), rows),
        () => [sl.figures(), sl.lifetime(), sl.slices()],
      )
    : null;
  const row = (name: string, r: { add: number; read: number; all: number }, mb: number) =>
    console.log(
      `${String(W).padEnd(9)} ${name.padEnd(30)} ${r.add.toFixed(1).padStart(9)}  ${r.read.toFixed(2).padStart(7)}` +
        `  ${r.all.toFixed(1).padStart(9)}  ${mb.toFixed(1)}`,
    );
  row('sort per tick (before)', o, (W * 16) / 1e6);
  row('streaming (window + lifetime)', n, pm.bytes / 1e6);
  if (x) row(`streaming + ${SLOTS} sliced slots`, x, sl.bytes / 1e6);
  console.log(
    `${String(W).padEnd(9)} ratio before / streaming: all ${(o.all / n.all).toFixed(1)}x, ` +
      `read ${(o.read / n.read).toFixed(0)}x`,
  );
}
