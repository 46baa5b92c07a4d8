/**
 * The embedding store's memory budget on an endless vocabulary (issue "The embedding store at
 * production scale"): trains on batches whose ids are all new (4 slots, dim 16, bfloat16
 * momentum, tower [16]) until `--ids` new ids have been looked up, with
 * `model.memoryBudgetBytes` = `--budget`, and prints a curve every `--every` steps: ids so far,
 * rows held, bytes held by the tables (RowBudget.heldBytes), RSS, RSS - held (the fixed
 * overhead), evictions, refusals, step time. The peer in the same invocation: the same stream
 * without a budget, run for `--peer-ids` ids, whose RSS grows with the ids.
 *
 *   npx tsx bench/budget-growth.ts [--ids 50000000] [--budget 2147483648] [--batch 16384] [--peer-ids 10000000]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    ids: { type: 'string', default: '50000000' },
    budget: { type: 'string', default: String(2 ** 31) },
    batch: { type: 'string', default: '16384' },
    every: { type: 'string', default: '100' },
    'peer-ids': { type: 'string', default: '10000000' },
    help: { type: 'boolean' },
  },
});
const usage =
  'usage: npx tsx bench/budget-growth.ts [--ids 50000000] [--budget 2147483648] [--batch 16384] [--every 100] ' +
  '[--peer-ids 10000000]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const ids = Number(values.ids),
  budget = Number(values.budget),
  B = Number(values.batch),
  every = Number(values.every),
  peerIds = Number(values['peer-ids']);
for (const v of [ids, budget, B, every]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench/budget-growth: every option takes a whole number >= 1\n${usage}`);
    process.exit(2);
  }
}
const F = 4,
  slots = ['C1', 'C2', 'C3', 'C4'];
const schema = { numeric: [], categorical: slots, embeddingDim: 16 };
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 });
const mib = (b: number) => (b / 2 ** 20).toFixed(0);

/** Batch n: B examples, every id new (ids n * B + b per slot, mixed into 64 bits), 20% clicks. */
function batchAt(n: number): FeatureBatch {
  const idHi = new Uint32Array(B * F),
    idLo = new Uint32Array(B * F),
    labels = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const k = n * B + b;
    for (let f = 0; f < F; f++) {
      idHi[b * F + f] = Math.imul(k ^ (f << 28), 0x9e3779b1) >>> 0;
      idLo[b * F + f] = (Math.imul(k + 0x7f4a7c15 * f, 0x85ebca6b) ^ (k >>> 13)) >>> 0;
    }
    labels[b] = (Math.imul(k, 0x27d4eb2f) >>> 0) / 2 ** 32 < 0.2 ? 1 : 0;
  }
  return {
    size: B,
    labels,
    weights: new Float32Array(B).fill(1),
    dense: new Float32Array(0),
    idHi,
    idLo,
    eventTimeMs: new Float64Array(B).fill(Number.NaN),
    partitions: new Int32Array(B),
    offsets: new Float64Array(B),
  };
}

function run(label: string, maxIds: number, memoryBudgetBytes: number): void {
  const model = new CtrModel(schema, {
    hidden: [16],
    initStd: 0.01,
    seed: 1,
    momentumDtype: 'bfloat16',
    memoryBudgetBytes,
  });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(1e-3), linear: lp(1e-3) });
  console.log(`\n${label}: budget ${memoryBudgetBytes ? `${mib(memoryBudgetBytes)} MiB` : 'none'}`);
  console.log('step | ids looked up | rows | held MiB | RSS MiB | RSS - held MiB | evicted | refused | ms/step');
  const steps = Math.ceil(maxIds / (B * F));
  let t0 = performance.now(),
    maxRss = 0,
    maxOverhead = 0;
  for (let n = 0; n < steps; n++) {
    step.run(batchAt(n));
    if ((n + 1) % every === 0 || n === steps - 1) {
      const rss = process.memoryUsage().rss,
        held = model.budget.heldBytes(),
        rows = model.tables.reduce((s, t) => s + t.size, 0);
      maxRss = Math.max(maxRss, rss);
      maxOverhead = Math.max(maxOverhead, rss - held);
      const evicted = model.eviction.evicted.reduce((s, x) => s + x, 0),
        refused = model.budget.refused.reduce((s, x) => s + x, 0);
      const ms = (performance.now() - t0) / ((n % every) + 1);
      console.log(
        [n + 1, (n + 1) * B * F, rows, mib(held), mib(rss), mib(rss - held), evicted, refused, ms.toFixed(0)].join(
          ' | ',
        ),
      );
      t0 = performance.now();
    }
  }
  console.log(`${label}: max RSS ${mib(maxRss)} MiB, max RSS - held ${mib(maxOverhead)} MiB`);
  model.dispose();
}

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; batch ${B}, ${F} slots, dim 16, bf16`,
);
await selectBackend('auto');
run('budget', ids, budget);
if (peerIds > 0) run('peer (no budget)', peerIds, 0);
