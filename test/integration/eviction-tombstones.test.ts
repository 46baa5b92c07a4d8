/**
 * TTL eviction in a real Trainer (model.eviction, src/model/eviction.ts): the ids it evicts
 * become tombstones of the delta exports (tombstones/<slot>.arrow), read back with apache-arrow.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { criteoSlots } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { useFixture } from '../helpers/fixture.ts';

const fx = useFixture();

describe('TTL eviction in a trainer', () => {
  it('evicted ids are tombstones of the delta exports', async () => {
    const root = fx.tempDir('evict');
    await selectBackend('auto');
    const schema = { ...criteoSlots(), embeddingDim: 4 };
    // the synthetic stream's event times step 10 ms an example: 1.28 s a batch of 128
    const eviction = { ttlSeconds: 2, sweepSeconds: 1 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 1, eviction });
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
    const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
    const evicted = new Set<string>();
    model.eviction.onEvict.push((slot, hi, lo) => evicted.add(`${slot}/${(BigInt(hi) << 32n) | BigInt(lo)}`));
    const trainer = new Trainer({
      model,
      step,
      openSource: () => createSyntheticSource({ seed: 3, limit: 128 * 12 }),
      epochs: 1,
      batchSize: 128,
      maxExamples: 0,
      metricsWindow: 1000,
      progressSeconds: 0,
      exportDir: join(root, 'exports'),
      exportIntervalSeconds: 0,
      deltaIntervalSeconds: 1e-6, // a delta after every batch once the first full export is written
      exportKeep: 10,
      logger: pino({ level: 'silent' }),
    });
    await trainer.run();
    expect(evicted.size).toBeGreaterThan(100);
    const exportsDir = join(root, 'exports');
    const base = (await readdir(exportsDir)).filter((n) => /^\d+$/.test(n)).sort()[0];
    const tomb = new Set<string>();
    for (const d of (await readdir(join(exportsDir, base))).filter((n) => n.startsWith('delta-'))) {
      const dir = join(exportsDir, base, d, 'tombstones');
      const files = await readdir(dir).catch(() => [] as string[]);
      for (const f of files) {
        const ids = arrow
          .tableFromIPC(await readFile(join(dir, f)))
          .getChild('id')!
          .toArray() as BigUint64Array;
        for (const id of ids) tomb.add(`${f.replace(/\.arrow$/, '')}/${id}`);
      }
    }
    expect(tomb.size).toBeGreaterThan(100);
    for (const t of tomb) expect(evicted.has(t), t).toBe(true);
    model.dispose();
  }, 120_000);
});
