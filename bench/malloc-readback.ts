/**
 * glibc malloc's thresholds and the native step (README "Read-backs and page faults"): runs itself
 * as child processes on the native backend (TensorFlow on `--tf-threads` intra-op threads),
 * alternately untuned (LIONCTR_MALLOC_TUNE=off) and tuned as the product tunes it (selectBackend
 * sets the thresholds by mallopt through the addon `npm run native:build` builds;
 * src/model/malloc-tunables.ts), `--pairs` pairs in all (A B A B; the setting is process-wide, so
 * each side is its own process; neither gets GLIBC_TUNABLES). Each child times, after warming up:
 *   - read-back: `--reads` dataSync() of a fresh [B, 637] matmul output (the tower-input
 *     gradient's shape: 10.4 MB at B = 4096), median ms;
 *   - step: `--steps` TrainStep.run of config/criteo.json's model on pre-made ids (every table
 *     filled first with floor(--rows / 39) ids, as the speed suite's ids mode), median ms.
 * Prints each pair, the medians of the per-pair ratios (without / with) and their range, and
 * the load average.
 *
 *   npx tsx bench/malloc-readback.ts [--pairs 6] [--batch 4096] [--rows 100000] [--reads 10] [--steps 12]
 *     [--tf-threads 1]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mallocAddonPath } from '../src/model/malloc-tunables.ts';

const { values: v } = parseArgs({
  options: {
    pairs: { type: 'string', default: '6' },
    batch: { type: 'string', default: '4096' },
    rows: { type: 'string', default: '100000' },
    reads: { type: 'string', default: '10' },
    steps: { type: 'string', default: '12' },
    'tf-threads': { type: 'string', default: '1' },
    child: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  console.log(
    'npx tsx bench/malloc-readback.ts [--pairs 6] [--batch 4096] [--rows 100000] [--reads 10] [--steps 12] ' +
      '[--tf-threads 1]',
  );
  process.exit(0);
}
const B = Number(v.batch);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (v.child) {
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('../src/model/backend.ts');
  const { featureSchemaOf } = await import('../src/cli/common.ts');
  const { modelOf, optimConfigOf } = await import('../src/cli/model-setup.ts');
  const { loadConfig } = await import('../src/config/schema.ts');
  const { TrainStep } = await import('../src/train/train-step.ts');
  const { idOf, makeIdBatches } = await import('./suite/ids-file.ts');
  await selectBackend('tensorflow', undefined, { tfThreads: Number(v['tf-threads']) });
  const da = tf.randomNormal([B, 256]) as import('@tensorflow/tfjs-core').Tensor2D,
    W = tf.randomNormal([637, 256]) as import('@tensorflow/tfjs-core').Tensor2D;
  const reads: number[] = [];
  for (let i = 0; i < Number(v.reads) + 2; i++) {
    const y = tf.matMul(da, W, false, true);
    const t0 = performance.now();
    y.dataSync();
    if (i >= 2) reads.push(performance.now() - t0);
    y.dispose();
  }
  const cfg = loadConfig(['config/criteo.json'], []);
  const model = modelOf(cfg, featureSchemaOf(cfg));
  const F = model.tables.length,
    per = Math.floor(Number(v.rows) / F);
  model.tables.forEach((t, f) => {
    for (let k = 0; k < per; k++) {
      const { hi, lo } = idOf(f, k);
      t.findOrAdmit(hi, lo);
    }
  });
  const batches = makeIdBatches(4, B, Number(v.rows)).batches.map((x) => {
    const idHi = new Uint32Array(B * F),
      idLo = new Uint32Array(B * F);
    for (let i = 0; i < B * F; i++) ({ hi: idHi[i], lo: idLo[i] } = idOf(i % F, x.ids[i]));
    return {
      size: B,
      labels: x.labels,
      weights: new Float32Array(B).fill(1),
      dense: x.dense,
      idHi,
      idLo,
      eventTimeMs: new Float64Array(B).fill(Number.NaN),
      partitions: new Int32Array(B),
      offsets: new Float64Array(B).map((_, b) => b),
    };
  });
  const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
  for (let i = 0; i < 3; i++) step.run(batches[i % 4]);
  const steps: number[] = [];
  for (let i = 0; i < Number(v.steps); i++) {
    const t0 = performance.now();
    step.run(batches[i % 4]);
    steps.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ read: median(reads), step: median(steps) }));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
if (!existsSync(mallocAddonPath())) {
  console.error(`malloc-readback: ${mallocAddonPath()} is not built (npm run native:build): nothing to compare`);
  process.exit(1);
}
/** One child's medians, tuned or not. */
function child(tuned: boolean): { read: number; step: number } {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  delete env.GLIBC_TUNABLES; // the tuned side is tuned in process, by selectBackend (the addon), as the product
  if (!tuned) env.LIONCTR_MALLOC_TUNE = 'off';
  const args = ['--import', 'tsx', self, '--child', ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(
  `malloc-readback: batch ${B}, ${v.rows} rows, TensorFlow on ${v['tf-threads']} threads, ` +
    `${v.pairs} pairs; load ${load()}`,
);
const readRatios: number[] = [],
  stepRatios: number[] = [];
for (let p = 0; p < Number(v.pairs); p++) {
  // alternating order: without first in even pairs, with first in odd ones
  let plain: { read: number; step: number }, tuned: { read: number; step: number };
  if (p % 2) {
    tuned = child(true);
    plain = child(false);
  } else {
    plain = child(false);
    tuned = child(true);
  }
  readRatios.push(plain.read / tuned.read);
  stepRatios.push(plain.step / tuned.step);
  console.log(
    `pair ${p + 1}: read-back ${plain.read.toFixed(1)} ms without, ${tuned.read.toFixed(1)} with; ` +
      `step ${plain.step.toFixed(1)} ms without, ${tuned.step.toFixed(1)} with`,
  );
}
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
console.log(
  `untuned / tuned, median of ${readRatios.length} pairs: read-back ${median(readRatios).toFixed(2)}x ` +
    `(${range(readRatios)}), step ${median(stepRatios).toFixed(2)}x (${range(stepRatios)}); load ${load()}`,
);
