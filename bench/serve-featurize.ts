/**
 * Request-body featurization speed: the predict fast path (src/serve/json-fast.ts scanInstances +
 * featurizeScan; its scan alone too) on the bodies bench/serve-speed.ts sends (Criteo slots; categorical values
 * v0..v5499, numeric 0..999; 16 distinct bodies cycled), beside Featurizer.fromInstances on the
 * same instances already parsed (the in-process floor of serve-speed) and JSON.parse +
 * fromInstances (the slow path's cost), in µs per body; one thread, CPU only.
 *
 *   npx tsx bench/serve-featurize.ts [--sizes 1,16,256] [--rounds 7] [--base DIR]
 *
 * `--base DIR`: another checkout's fast path (DIR/src/serve/json-fast.ts with its own Featurizer)
 * runs interleaved with this one's (alternating order each round), first checked to give the same
 * bits (ids, dense inputs, offsets, weights); min / median / max over the rounds are printed.
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { criteoSlots } from '../src/features/schema.ts';
import * as fast from '../src/serve/json-fast.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,16,256' },
    rounds: { type: 'string', default: '7' },
    base: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/serve-featurize.ts [--sizes 1,16,256] [--rounds 7] [--base DIR]');
  process.exit(0);
}
const schema = { ...criteoSlots(), embeddingDim: 16 };
type FastPath = { jf: typeof fast; f: Featurizer };
const impls: Record<string, FastPath> = { this: { jf: fast, f: new Featurizer(schema) } };
if (values.base) {
  const dir = resolve(values.base);
  const url = (p: string) => pathToFileURL(join(dir, p)).href;
  const jf = (await import(url('src/serve/json-fast.ts'))) as typeof fast;
  const { Featurizer: F } = (await import(url('src/features/featurizer.ts'))) as { Featurizer: typeof Featurizer };
  impls.base = { jf, f: new F(schema) };
}

/** Deterministic uniform integers in [0, n). */
let seed = 1;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
};
const instances = (n: number) =>
  Array.from({ length: n }, () => {
    const r: Record<string, unknown> = {};
    for (const c of schema.categorical) r[c] = `v${rand(5500)}`;
    for (const x of schema.numeric) r[x] = rand(1000);
    return r;
  });

const bytesOf = (b: FeatureBatch, k: 'idHi' | 'idLo' | 'dense' | 'offsets' | 'weights') =>
  Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0].toFixed(1)} / ${s[s.length >> 1].toFixed(1)} / ${s[s.length - 1].toFixed(1)}`;
};

console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; µs per body, min / median / max`,
);
for (const n of values.sizes.split(',').map(Number)) {
  const sets = Array.from({ length: 16 }, () => instances(n));
  const bodies = sets.map((instances) => JSON.stringify({ instances }));
  const run = ({ jf, f }: FastPath, text: string) => jf.featurizeScan(jf.scanInstances(text) as fast.Scan, text, f);
  if (impls.base)
    for (const text of bodies) {
      const a = run(impls.base, text) as FeatureBatch,
        b = run(impls.this, text) as FeatureBatch;
      for (const k of ['idHi', 'idLo', 'dense', 'offsets', 'weights'] as const)
        if (!bytesOf(a, k).equals(bytesOf(b, k))) throw new Error(`${n} instances: base and this differ in ${k}`);
    }
  const reps = Math.max(50, Math.round(60_000 / n));
  const phases: Record<string, (k: number) => unknown> = {};
  for (const [label, impl] of Object.entries(impls)) {
    phases[`scan only (${label})`] = (k) => impl.jf.scanInstances(bodies[k & 15]);
    phases[`fast path (${label})`] = (k) => run(impl, bodies[k & 15]);
  }
  const f = impls.this.f;
  phases['fromInstances, parsed'] = (k) => f.fromInstances(sets[k & 15]);
  phases['JSON.parse + fromInstances'] = (k) => f.fromInstances(JSON.parse(bodies[k & 15]).instances);
  const names = Object.keys(phases);
  const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < Number(values.rounds); round++)
    for (const name of round % 2 ? [...names].reverse() : names) {
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) phases[name](k);
      times[name].push(((performance.now() - t0) / reps) * 1000);
    }
  for (const name of names)
    console.log(`${String(n).padStart(5)} instances  ${name.padEnd(28)} ${stats(times[name]).padStart(24)}`);
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
