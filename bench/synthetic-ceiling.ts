/**
 * What an ideal learner could capture on the synthetic stream: oracle ablations of the
 * planted model over examples 1.9M..2.2M (seed 1), each with its bias refit, reported as
 * the share of achievable gain (LL_base - LL) / (LL_base - LL_bayes):
 *   - without the 4 pairwise interaction tables (what a first-order model can reach),
 *   - without categorical values rarer than 50 expected occurrences in 2M examples,
 *   - without both.
 * Puts bench/synthetic-curve.ts figures in context.
 *
 *   npx tsx bench/synthetic-ceiling.ts [--examples 300000]
 */
import { parseArgs } from 'node:util';
import { PAIRS, plantedModel, VOCAB_SIZES } from '../src/ingest/synthetic-model.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';

const { values } = parseArgs({
  options: { examples: { type: 'string', default: '300000' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log('usage: npx tsx bench/synthetic-ceiling.ts [--examples 300000]');
  process.exit(0);
}
const m = plantedModel(1);
const prob = (s: number, r: number) => {
  const c = m.zipf[s].cdf;
  return c[r - 1] - (r > 1 ? c[r - 2] : 0);
};
interface Row {
  y: number;
  logit: number;
  pairs: number;
  rare: number;
}
const rows: Row[] = [];
for await (const rb of createSyntheticSource({
  seed: 1,
  limit: Number(values.examples),
  startOffset: 1_900_000,
}).batches({ batchSize: 4096 })) {
  const cols = Array.from({ length: 26 }, (_, s) => rb.getChild(`C${s + 1}`)!);
  const bp = rb.getChild('bayes_p')!,
    lab = rb.getChild('label')!;
  for (let i = 0; i < rb.numRows; i++) {
    const p = bp.get(i) as number;
    const ranks = cols.map((c) => Number(c.get(i)));
    let pairs = 0;
    PAIRS.forEach(([a, b], k) => {
      pairs += m.pair[k][(ranks[a] - 1) * VOCAB_SIZES[b] + ranks[b] - 1];
    });
    let rare = 0;
    ranks.forEach((r, s) => {
      if (2e6 * prob(s, r) < 50) rare += m.cat[s][r - 1];
    });
    rows.push({ y: Number(lab.get(i)), logit: Math.log(p / (1 - p)), pairs, rare });
  }
}
const logloss = (f: (r: Row) => number) => {
  let s = 0;
  for (const r of rows) {
    const q = 1 / (1 + Math.exp(-f(r)));
    s -= r.y ? Math.log(q) : Math.log(1 - q);
  }
  return s / rows.length;
};
const refit = (f: (r: Row) => number) => {
  let best = Infinity;
  for (let a = -1; a <= 1; a += 0.02)
    best = Math.min(
      best,
      logloss((r) => f(r) + a),
    );
  return best;
};
const ctr = rows.reduce((a, r) => a + r.y, 0) / rows.length;
const base = -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
const bayes = logloss((r) => r.logit);
const gain = (v: number) => ((base - v) / (base - bayes)).toFixed(3);
console.log(
  `synthetic seed 1, ${rows.length} examples from index 1.9M: CTR ${ctr.toFixed(4)}, ` +
    `base-rate logloss ${base.toFixed(4)}, Bayes logloss ${bayes.toFixed(4)} (NE ${(bayes / base).toFixed(3)})`,
);
console.log(`oracle without pair interactions:          gain ${gain(refit((r) => r.logit - r.pairs))}`);
console.log(`oracle without values rarer than 50 in 2M: gain ${gain(refit((r) => r.logit - r.rare))}`);
console.log(`oracle without both:                        gain ${gain(refit((r) => r.logit - r.pairs - r.rare))}`);
