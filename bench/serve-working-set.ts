/**
 * Why in-process scoring at 256 instances per request is slower per instance than at 16 in
 * bench/serve-speed.ts: that bench cycles 16 bodies, so 16 x 256 = 4096 distinct instances at 256
 * but 256 at 16. This scores the same request size from pools of 256 and of 4096 distinct
 * instances, alternating request by request, and prints µs per instance of featurizing and of
 * the whole scoring (featurize, rows, tower) with the ratio 4096 / 256 — the cost of the hash
 * caches' and embedding rows' working set, not of the request size.
 *
 *   npx tsx bench/serve-working-set.ts [--rows 5000] [--requests 400]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { selectBackend } from '../src/model/backend.ts';
import { scoreBatch } from '../src/serve/scoring.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '5000' }, requests: { type: 'string', default: '200' } },
});
const rowsPerSlot = Number(values.rows),
  requests = Number(values.requests);
const cfg = loadConfig([], []);
const schema = featureSchemaOf(cfg);
await selectBackend(cfg.backend);
const model = modelOf(cfg, schema);
const admit = new Featurizer(schema);
for (let s = 0; s < rowsPerSlot; s += 1000) {
  const batch = Array.from({ length: Math.min(1000, rowsPerSlot - s) }, (_, i) => {
    const r: Record<string, unknown> = {};
    for (const c of schema.categorical) r[c] = `v${s + i}`;
    for (const x of schema.numeric) r[x] = (s + i) % 1000;
    return r;
  });
  model.gather(admit.fromInstances(batch), true);
}
const { createServingTower } = await import('../src/model/serving-tower.ts');
model.servingTower = await createServingTower(model.tower);
let seed = 7;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const instance = () => {
  const r: Record<string, unknown> = {};
  for (const c of schema.categorical) r[c] = `v${rand(Math.ceil(rowsPerSlot * 1.1))}`;
  for (const x of schema.numeric) r[x] = rand(1000);
  return r;
};
const pools = { 256: Array.from({ length: 256 }, instance), 4096: Array.from({ length: 4096 }, instance) };
const featurizer = new Featurizer(schema);
const served = { version: '1', model, featurizer } as unknown as Parameters<typeof scoreBatch>[0];
/** Variants: instances per request x distinct instances cycled (the bench's are 16 x 256 and 256 x 4096). */
const variants = [
  [16, 256],
  [16, 4096],
  [256, 256],
  [256, 4096],
] as const;
const feat = variants.map(() => [] as number[]),
  all = variants.map(() => [] as number[]);
let next = 0;
for (let k = 0; k < requests; k++)
  for (let v = 0; v < variants.length; v++) {
    const [n, distinct] = variants[(v + k) % variants.length];
    const vi = (v + k) % variants.length;
    let f = 0,
      s = 0;
    // 256 instances per variant and round: 16 requests of 16 or one of 256
    for (let r = 0; r < 256 / n; r++) {
      const pool = pools[distinct];
      const rows = Array.from({ length: n }, () => ({ ...pool[next++ % pool.length] }));
      const a = performance.now();
      const batch = featurizer.fromInstances(rows);
      const b = performance.now();
      await scoreBatch(served, batch, (i) => `instances[${i}]`);
      f += b - a;
      s += performance.now() - a;
    }
    if (k < 32) continue; // warm-up: the hash caches fill
    feat[vi].push((f / 256) * 1000);
    all[vi].push((s / 256) * 1000);
  }
const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];
console.log(`median µs per instance over ${requests - 32} rounds of 256 instances per variant, alternating`);
console.log(`load average ${loadavg()[0].toFixed(2)}`);
console.log('per request  distinct  featurize  scoring (featurize + rows + tower)');
for (const [v, [n, d]] of variants.entries())
  console.log(
    `${String(n).padStart(11)} ${String(d).padStart(9)} ${median(feat[v]).toFixed(2).padStart(10)} ` +
      `${median(all[v]).toFixed(2).padStart(10)}`,
  );
model.dispose();
