/**
 * The publish gate judges on the progressive figures' corrected scale (src/train/publish-gate.ts):
 * a model trained on a log whose negatives were kept at r = 0.25 (train.negativeRate) is judged
 * on held-out examples of that log with its predictions recalibrated, q / (q + (1 - q) / r), and
 * each non-click weighted 1/r. Reference: the candidate model's own predictions on the held-out
 * batches, recalibrated and weighted independently here, through the weighted evalFigures
 * (checked against a pairwise re-derivation in progressive-weighted.test.ts); equal exactly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../../src/events/train-events.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { evalFigures } from '../../../src/train/evaluation/binary-metrics.ts';
import { writeCandidate } from '../../../src/train/export-writer.ts';
import { PublishGate } from '../../../src/train/publish-gate.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const R = 0.25;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function recordBatches(seed: number, n: number, size: number): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const rb of createSyntheticSource({ seed, limit: n }).batches({ batchSize: size })) out.push(rb);
  return out;
}

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('PublishGate with train.negativeRate', () => {
  it('judges candidate and served figures recalibrated, non-clicks weighted 1/r', async () => {
    const t = await tinyTrainedModel(4, 256);
    t.model.rules = { ...t.model.rules, negativeRate: R };
    const root = await mkdtemp(join(tmpdir(), 'lionctr-gate-scale-'));
    dirs.push(root);
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
      logger: pino({ level: 'silent' }),
      remaining: () => Infinity,
      emit: (e) => events.push(e),
    });
    await gate.afterExport((await writeCandidate(root, t.model, meta(1))).version);
    for (const rb of await recordBatches(2, 4 * 256, 256)) t.step.run(t.featurizer.fromRecordBatch(rb));
    await gate.afterExport((await writeCandidate(root, t.model, meta(2))).version);
    const held = await recordBatches(9, 1024, 256);
    for (const rb of held) await gate.offer(rb);
    const e = events[1];
    expect(e.decision).toBe('published');

    const batches = held.map((rb) => t.featurizer.fromRecordBatch(rb));
    const labels = batches.flatMap((b) => Array.from(b.labels));
    const q = Float32Array.from(batches.flatMap((b) => Array.from(t.model.predict(b))));
    const p = Float32Array.from(q, (x) => x / (x + (1 - x) / R));
    const w = labels.map((y) => (y > 0.5 ? 1 : 1 / R));
    const full = evalFigures(p, labels, p.length, w),
      sampled = evalFigures(q, labels);
    console.log(
      `gate candidate at r=${R}: calibration ${e.candidate!.calibration.toFixed(4)} (sampled scale ` +
        `${sampled.calibration.toFixed(4)}), AUC ${e.candidate!.auc.toFixed(4)} (sampled ${sampled.auc.toFixed(4)})`,
    );
    expect(e.candidate).toEqual({ auc: full.auc, calibration: full.calibration });
    // the test means something: the sampled-scale calibration differs (for small q, p ~ r q and the
    // 1/r weights nearly cancel: the difference is a few percent)
    expect(Math.abs(full.calibration - sampled.calibration)).toBeGreaterThan(1e-3);
  });
});
