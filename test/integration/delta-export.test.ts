/**
 * Delta exports written by a real Trainer on the synthetic source (issue 11 "Delta
 * exports"), read back with plain reads (node:fs, node:crypto, apache-arrow), no lionctr
 * reader: delta-1..n exist under the first full export, the chain holds (prev_sha256 =
 * sha256 of the previous manifest.json bytes, base_version, seq, increasing versions,
 * file checksums), the base with the deltas applied (rows replaced by id, dense files of
 * the last delta) is bit-identical to a full export written right after the last delta,
 * and each delta holds only rows that changed (fewer than the table holds).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeltaEvent } from '../../src/events/train-events.ts';
import { criteoSlots } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { createTrainMetrics } from '../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../src/metrics/train-observer.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { useFixture } from '../helpers/fixture.ts';

const fx = useFixture();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hex = (b: ArrayBufferView) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** id -> row bytes (hex of the W float32s) of one embeddings/<slot>.arrow file. */
async function readRows(file: string): Promise<Map<bigint, string>> {
  const t = arrow.tableFromIPC(await readFile(file));
  const ids = t.getChild('id')!.toArray() as BigUint64Array;
  const vec = t.getChild('vector')!;
  const out = new Map<bigint, string>();
  for (let i = 0; i < t.numRows; i++) out.set(ids[i], hex(vec.get(i)!.toArray() as Float32Array));
  return out;
}

describe('delta exports of a training run', () => {
  it('chain onto the base, hold only changed rows, and rebuild the full export bit for bit', async () => {
    const root = fx.tempDir('delta');
    await selectBackend('auto');
    const schema = { ...criteoSlots(), embeddingDim: 4 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 1 });
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
    const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
    const batches = 12;
    const trainer = new Trainer({
      model,
      step,
      openSource: () => createSyntheticSource({ seed: 3, limit: 128 * batches }),
      epochs: 1,
      batchSize: 128,
      maxExamples: 0,
      metricsWindow: 1000,
      progressSeconds: 0,
      exportDir: join(root, 'exports'),
      exportIntervalSeconds: 0, // full exports: the first at once, the last at the end
      deltaIntervalSeconds: 1e-6, // a delta after every later batch
      exportKeep: 10,
      logger: pino({ level: 'silent' }),
    });
    const metrics = createTrainMetrics();
    observeTrainer(trainer, metrics);
    const deltas: DeltaEvent[] = [];
    trainer.on('delta', (e) => deltas.push(e));
    const summary = await trainer.run();
    // the same moment as the last delta: no step ran since (the trainer's own last export is one too)
    const full = await writeExport(join(root, 'full'), model, {
      step: 0,
      examples: 0,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });

    const exportsDir = join(root, 'exports');
    const base = summary.exports[0];
    const baseDir = join(exportsDir, base);
    expect(deltas.length).toBe(batches - 1); // batch 1 is in the base
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
    const names = (await readdir(baseDir)).filter((n) => n.startsWith('delta-'));
    expect(names.sort()).toEqual(deltas.map((d) => `delta-${d.seq}`).sort());
    expect((await readdir(baseDir)).filter((n) => n.startsWith('.tmp'))).toEqual([]);

    // the chain, checked by hand
    let prevBytes = await readFile(join(baseDir, 'manifest.json'));
    let prevVersion = BigInt(base);
    const rows = new Map<string, Map<bigint, string>>();
    for (const slot of model.slots) rows.set(slot, await readRows(join(baseDir, `embeddings/${slot}.arrow`)));
    let lastDelta = '';
    for (let n = 1; n <= deltas.length; n++) {
      const dir = join(baseDir, `delta-${n}`);
      const bytes = await readFile(join(dir, 'manifest.json'));
      const m = JSON.parse(bytes.toString('utf8'));
      expect(m.format).toBe('lionctr-delta/1');
      expect(m.base_version).toBe(base);
      expect(m.seq).toBe(n);
      expect(m.prev_sha256).toBe(sha(prevBytes));
      expect(BigInt(m.version)).toBeGreaterThan(prevVersion);
      expect(m.version).toBe(deltas[n - 1].version);
      for (const [rel, sum] of Object.entries(m.files)) expect(sha(await readFile(join(dir, rel))), rel).toBe(sum);
      // apply: rows replaced by id; a delta holds only rows new or changed since the previous export
      let changed = 0,
        total = 0;
      for (const slot of model.slots) {
        const cur = rows.get(slot)!;
        const rel = `embeddings/${slot}.arrow`;
        const delta = m.files[rel] ? await readRows(join(dir, rel)) : new Map<bigint, string>();
        expect(delta.size, `${slot} rows of delta ${n}`).toBe(m.rows[slot]);
        for (const [id, v] of delta) {
          expect(cur.get(id), `${slot} row ${id} of delta ${n} is unchanged`).not.toBe(v);
          cur.set(id, v);
        }
        changed += delta.size;
        total += cur.size;
      }
      expect(m.files['tombstones/C1.arrow']).toBeUndefined();
      expect(changed).toBe(deltas[n - 1].rows);
      expect(changed).toBeGreaterThan(0);
      // one batch's rows at most (128 examples x 26 slots), not all rows nor all since the base
      expect(changed, `delta ${n}: changed rows`).toBeLessThanOrEqual(128 * 26);
      expect(changed, `delta ${n}: changed rows of all rows`).toBeLessThan(n < 8 ? total : total / 4);
      prevBytes = bytes;
      prevVersion = BigInt(m.version);
      lastDelta = dir;
    }
    // the base + deltas = the full export written after the last delta, bit for bit
    for (const slot of model.slots) {
      const want = await readRows(join(full.dir, `embeddings/${slot}.arrow`));
      const got = rows.get(slot)!;
      expect(got.size, slot).toBe(want.size);
      for (const [id, v] of want) expect(got.get(id), `${slot} row ${id}`).toBe(v);
    }
    for (const rel of ['dense/weights.bin', 'dense/model.json', 'dense/model.onnx'])
      expect(sha(await readFile(join(lastDelta, rel))), rel).toBe(sha(await readFile(join(full.dir, rel))));
    // the trainer's own last export (a new chain) is above the last delta's version
    expect(BigInt(summary.exports.at(-1)!)).toBeGreaterThan(prevVersion);
    expect(summary.exports.length).toBe(2);
    expect((await readdir(join(exportsDir, summary.exports[1]))).filter((n) => n.includes('delta'))).toEqual([]);
    // metrics
    const text = await metrics.registry.metrics();
    expect(text).toContain(`lionctr_export_delta_seconds_count ${deltas.length}`);
    expect(text).toContain(`lionctr_export_delta_rows ${deltas.at(-1)!.rows}`);
  });
});
