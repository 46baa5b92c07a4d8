/**
 * The publish gate judges a candidate against what serving serves (src/train/publish-gate.ts
 * afterDelta): delta exports reach serving without LATEST moving (serving applies them to
 * the version LATEST names), so after a delta the served version is base + delta, not the
 * base. The reference is serving's own path on the files: the base export loaded as serving
 * loads it, the delta read (DeltaChain) and applied (applyDeltaInPlace), then CtrModel.predict
 * on the held-out examples; its AUC and calibration must be the gate's `served` figures exactly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../../src/events/train-events.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import type { CtrModel } from '../../../src/model/ctr-model.ts';
import { loadExport } from '../../../src/model/export-reader.ts';
import { applyDeltaInPlace } from '../../../src/serve/delta-applier.ts';
import { DeltaChain } from '../../../src/serve/delta-reader.ts';
import { DeltaExports } from '../../../src/train/delta-exports.ts';
import { evalFigures } from '../../../src/train/evaluation/binary-metrics.ts';
import { writeCandidate } from '../../../src/train/export-writer.ts';
import { PublishGate } from '../../../src/train/publish-gate.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The record batches of `n` synthetic examples of `seed`. */
async function recordBatches(seed: number, n: number, size: number): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const rb of createSyntheticSource({ seed, limit: n }).batches({ batchSize: size })) out.push(rb);
  return out;
}

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('PublishGate after a delta export', () => {
  it('judges the next candidate against the base plus the delta, as serving serves it', async () => {
    const t = await tinyTrainedModel(4, 256);
    const root = await mkdtemp(join(tmpdir(), 'lionctr-gate-delta-'));
    dirs.push(root);
    const logger = pino({ level: 'silent' });
    const deltas = new DeltaExports(t.step, root, 1, logger);
    const events: GateEvent[] = [];
    const config = {
      enabled: true,
      examples: 1024,
      maxAucDrop: 1,
      calibration: [0.01, 100],
      maxHoldSeconds: 3600,
      minClicks: 1,
    };
    const gate = new PublishGate({
      model: t.model,
      step: t.step,
      featurizer: t.featurizer,
      config,
      exportDir: root,
      keep: 3,
      resumed: false,
      logger,
      remaining: () => Infinity,
      emit: (e) => events.push(e),
      onPublish: (v) => deltas.startChain(v),
    });
    const train = async (seed: number) => {
      for (const rb of await recordBatches(seed, 4 * 256, 256)) t.step.run(t.featurizer.fromRecordBatch(rb));
    };

    // the first export: nothing served yet, published at once; a delta on it; more training
    const base = (await writeCandidate(root, t.model, meta(1))).version;
    await gate.afterExport(base);
    expect(events.map((e) => e.decision)).toEqual(['ungated']);
    await train(2);
    expect(gate.deltasAllowed).toBe(true);
    expect(await deltas.write(t.model, meta(2))).not.toBeNull();
    gate.afterDelta();
    await train(3);

    // the next candidate, judged on 1024 held-out examples
    const cand = (await writeCandidate(root, t.model, meta(3))).version;
    await gate.afterExport(cand);
    const held = await recordBatches(9, 1024, 256);
    const back: RecordBatch[] = [];
    for (const rb of held) back.push(...(await gate.offer(rb)));
    expect(back).toEqual(held); // decided at the 4th batch; all given back to be trained
    const e = events[1];
    expect(e.decision).toBe('published');

    // serving's view of the files: the base, then the base with its delta applied
    const batches = held.map((rb) => t.featurizer.fromRecordBatch(rb));
    const labels = Float32Array.from(batches.flatMap((b) => Array.from(b.labels)));
    const figures = (m: CtrModel) =>
      evalFigures(Float32Array.from(batches.flatMap((b) => Array.from(m.predict(b)))), labels);
    const served = (await loadExport(join(root, base))).model;
    const baseOnly = figures(served);
    const d = await new DeltaChain(base, join(root, base)).next(served);
    expect(d).not.toBeNull();
    applyDeltaInPlace(served, d!);
    const withDelta = figures(served);
    expect(e.served).toEqual({ auc: withDelta.auc, calibration: withDelta.calibration });
    // the test means something: the delta moved the served figures
    expect(withDelta.auc).not.toBe(baseOnly.auc);
    served.dispose();
  });
});
