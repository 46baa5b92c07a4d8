/**
 * The dense tower's train-step math (forward, weighted logloss, gradients for the input and
 * every variable) on tfjs-backend-wasm at 1 and 2 threads (LIONCTR_WASM_THREADS,
 * src/model/wasm-threads.ts), the wasm module re-initialised per phase, phases interleaved
 * (1 2 1 2 ...), one process.
 *
 *   npx tsx bench/wasm-threads.ts [--batch 4096] [--input 637] [--hidden 256,128] [--steps 10]
 *     [--rounds 3] [--threads 1,2]
 *
 * The step is the trainer's hand-written pass (src/model/tower-pass.ts); the taped one
 * (tf.valueAndGrads, before issue 13) runs beside it. Prints ms per fwd+bwd step (median of
 * `--steps`), GFLOP/s (matmul FLOPs only:
 * 2*B*sum(in*out) forward, twice that backward for d/dW and d/dx) and the 1-min load average
 * per phase, then per thread count the median over rounds and its speed ratio to the first
 * count; the same for the first layer's matmul alone ([B, I] x [I, H0], XNNPACK's share).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/model/backend.ts';
import { DenseTower } from '../src/model/tower.ts';
import { towerBackward, towerForward } from '../src/model/tower-pass.ts';
import { reinitWasmBackend } from '../src/model/wasm-threads.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '4096' },
    input: { type: 'string', default: '637' },
    hidden: { type: 'string', default: '256,128' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
  },
});
const [B, I, steps, rounds] = [values.batch, values.input, values.steps, values.rounds].map(Number);
const hidden = values.hidden.split(',').map(Number);
const threadCounts = values.threads.split(',').map(Number);
const sizes = [I, ...hidden, 1];
const flops = 6 * B * sizes.slice(0, -1).reduce((s, n, l) => s + n * sizes[l + 1], 0);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * ms per fwd+bwd step (median of `steps`, after 2 warm-up steps) on the current backend, by
 * tf.valueAndGrads (`taped`, the trainer before issue 13) or src/model/tower-pass.ts (`hand`, the
 * trainer's pass now).
 */
function stepMs(pass: 'taped' | 'hand'): number {
  const tower = new DenseTower(I, hidden, { seed: 1 });
  const x = tf.randomUniform([B, I], -1, 1, 'float32', 2);
  const y = tf.cast(tf.greater(tf.randomUniform([B], 0, 1, 'float32', 3), 0.75), 'float32');
  const lossOf = (z: tf.Tensor): tf.Scalar => {
    const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return tf.mean(l) as tf.Scalar;
  };
  const grad = tf.valueAndGrads((xIn: tf.Tensor, ...vars: tf.Tensor[]) =>
    lossOf(tower.logits(xIn as tf.Tensor2D, vars)),
  );
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const t0 = performance.now();
    tf.tidy(() => {
      if (pass === 'taped') {
        const { value, grads } = grad([x, ...tower.vars]);
        value.dataSync();
        for (const g of grads) g.dataSync();
      } else {
        const { logits, acts } = towerForward(x as tf.Tensor2D, tower.vars);
        lossOf(logits).dataSync();
        const dz = tf.div(tf.sub(tf.sigmoid(logits), y), B) as tf.Tensor1D;
        for (const g of towerBackward(dz, acts, tower.vars)) g.dataSync();
      }
    });
    if (s >= 2) times.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  tower.dispose();
  return median(times);
}

/** ms of one [B, I] x [I, H0] matmul (median of `steps`), the tower's largest XNNPACK op alone. */
function matmulMs(): number {
  const [a, b] = [tf.randomUniform([B, I], -1, 1, 'float32', 4), tf.randomUniform([I, hidden[0]], -1, 1, 'float32', 5)];
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b); // not in tf.tidy: its result scan walks a returned 1M-entry array (~1 s)
    c.dataSync();
    c.dispose();
    if (s >= 2) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return median(times);
}

await selectBackend('wasm');
console.log(`tower fwd+bwd [${B}, ${I}] -> ${hidden.join(' -> ')} -> 1, ${(flops / 1e9).toFixed(2)} GFLOP/step`);
const results = new Map<number, number[]>(threadCounts.map((n) => [n, []]));
const tapedResults = new Map<number, number[]>(threadCounts.map((n) => [n, []]));
const mmResults = new Map<number, number[]>(threadCounts.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (const n of threadCounts) {
    const got = await reinitWasmBackend(n);
    const taped = stepMs('taped');
    const ms = stepMs('hand');
    const mm = matmulMs();
    results.get(n)?.push(ms);
    tapedResults.get(n)?.push(taped);
    mmResults.get(n)?.push(mm);
    const gf = flops / ms / 1e6;
    const load = loadavg()[0].toFixed(2);
    const mmGf = (2 * B * I * hidden[0]) / mm / 1e6;
    console.log(
      `round ${r + 1} threads ${n} (pool ${got}): ${ms.toFixed(1)} ms/step, ${gf.toFixed(1)} GFLOP/s ` +
        `(taped ${taped.toFixed(1)} ms);` +
        ` first-layer matmul ${mm.toFixed(1)} ms, ${mmGf.toFixed(1)} GFLOP/s; load ${load}`,
    );
  }
}
const base = median(results.get(threadCounts[0]) ?? []);
for (const [n, ms] of results) {
  const m = median(ms);
  const spread = `${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)}`;
  const ratio = (base / m).toFixed(2);
  const mm = median(mmResults.get(n) ?? []);
  const mmRatio = (median(mmResults.get(threadCounts[0]) ?? []) / mm).toFixed(2);
  console.log(
    `threads ${n}: step median ${m.toFixed(1)} ms (${spread}), ${(flops / m / 1e6).toFixed(1)} GFLOP/s, ${ratio}x;` +
      ` matmul median ${mm.toFixed(1)} ms, ${mmRatio}x`,
  );
}
console.log(
  `load average (1, 5, 15 min): ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
