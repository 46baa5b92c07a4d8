/**
 * The publish gate's rule (judge) and the export writer's split that it relies on: a
 * candidate is complete on disk but invisible to serving (no version name, LATEST unchanged)
 * until it is published; a refused one is set aside under a name serving ignores, and the
 * next version is still newer than it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { loadExport, readLatest } from '../../../src/model/export-reader.ts';
import { fillCandidates } from '../../../src/serve/version-policy.ts';
import { publishCandidate, refuseCandidate, writeCandidate, writeExport } from '../../../src/train/export-writer.ts';
import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import type { GateEvent } from '../../../src/events/train-events.ts';
import { judge } from '../../../src/train/gate-rule.ts';
import { PublishGate } from '../../../src/train/publish-gate.ts';
import { loadServedRows } from '../../../src/train/served-from-disk.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const cfg = { maxAucDrop: 0.02, calibration: [0.5, 2], minClicks: 20 };
const fig = (auc: number, calibration = 1) => ({ auc, calibration });

describe('judge', () => {
  it('publishes a candidate within maxAucDrop of the served AUC and within the calibration range', () => {
    expect(judge(fig(0.7), fig(0.71), 4096, 150, cfg).decision).toBe('published');
    expect(judge(fig(0.75, 1.9), fig(0.7, 1), 4096, 150, cfg).decision).toBe('published');
    expect(judge(fig(0.75, 0.51), fig(0.7, 1), 4096, 150, cfg).decision).toBe('published');
  });

  it('refuses an AUC drop over maxAucDrop, naming the figures', () => {
    const v = judge(fig(0.67), fig(0.7), 4096, 150, cfg);
    expect(v).toMatchObject({ decision: 'refused', reasons: ['auc_drop'] });
    expect(v.why).toBe(
      'AUC 0.6700 vs served 0.7000 (drop 0.0300 > export.gate.maxAucDrop 0.02), ' +
        'calibration 1.0000 (served 1.0000) on 4096 held-out examples (150 clicks)',
    );
    // an undefined candidate AUC (non-finite scores) against a defined served one
    expect(judge(fig(Number.NaN), fig(0.7), 4096, 150, cfg).reasons).toEqual(['auc_drop']);
  });

  it('refuses a calibration that leaves the range; passes one that improves on a served one outside it', () => {
    expect(judge(fig(0.7, 2.5), fig(0.7, 1.1), 4096, 150, cfg).reasons).toEqual(['calibration']);
    expect(judge(fig(0.7, 0.4), fig(0.7, 0.9), 4096, 150, cfg).reasons).toEqual(['calibration']);
    // served 0.3 (outside), candidate 0.45: closer to 1, published; candidate 0.25: further, refused
    expect(judge(fig(0.7, 0.45), fig(0.7, 0.3), 4096, 150, cfg).decision).toBe('published');
    const worse = judge(fig(0.7, 0.25), fig(0.7, 0.3), 4096, 150, cfg);
    expect(worse.reasons).toEqual(['calibration']);
    expect(worse.why).toContain('further from 1 than the served version');
    expect(judge(fig(0.6, 3), fig(0.7, 1), 4096, 150, cfg).reasons).toEqual(['auc_drop', 'calibration']);
  });

  it('cannot judge with too few clicks or non-clicks: unjudged, or refused right after a refusal', () => {
    expect(judge(fig(0.3), fig(0.7), 4096, 19, cfg).decision).toBe('unjudged');
    expect(judge(fig(0.3), fig(0.7), 40, 21, cfg).decision).toBe('unjudged');
    expect(judge(fig(Number.NaN), fig(Number.NaN), 0, 0, cfg).decision).toBe('unjudged');
    const after = judge(fig(Number.NaN), fig(Number.NaN), 0, 0, cfg, true);
    expect(after).toMatchObject({ decision: 'refused', reasons: ['unjudged_after_refusal'] });
    expect(judge(fig(0.7), fig(0.7), 4096, 150, cfg, true).decision).toBe('published');
  });
});

describe('export writer: candidates, publish, refuse', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };

  it('a candidate is invisible until published; a refused one stays aside and LATEST does not move', async () => {
    const t = await tinyTrainedModel(1, 256);
    const root = await mkdtemp(join(tmpdir(), 'lionctr-gate-writer-'));
    dirs.push(root);
    const v1 = (await writeExport(root, t.model, meta)).version;
    const c2 = await writeCandidate(root, t.model, meta);
    expect(c2.dir).toBe(join(root, `.candidate-${c2.version}`));
    expect(await readLatest(root)).toBe(v1);
    // serving's start-up would never load it: not a version name
    expect(fillCandidates(await readdir(root), v1, new Set(), new Set())).toEqual([]);
    await refuseCandidate(root, c2.version);
    expect(await readLatest(root)).toBe(v1);
    expect((await readdir(root)).sort()).toEqual(['LATEST', v1, `refused-${c2.version}`].sort());
    expect(JSON.parse(await readFile(join(root, `refused-${c2.version}`, 'manifest.json'), 'utf8')).version).toBe(
      c2.version,
    );
    // the next version is newer than the refused one, even within the same millisecond
    const c3 = await writeCandidate(root, t.model, meta);
    expect(BigInt(c3.version)).toBeGreaterThan(BigInt(c2.version));
    await refuseCandidate(root, c3.version);
    expect((await readdir(root)).filter((n) => n.startsWith('refused-'))).toEqual([`refused-${c3.version}`]);
    const c4 = await writeCandidate(root, t.model, meta);
    expect(await publishCandidate(root, c4.version)).toBe(join(root, c4.version));
    expect(await readLatest(root)).toBe(c4.version);
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('loadServedRows (the served version from disk, for a resumed run)', () => {
  it('predicts exactly what the whole export, loaded as serving loads it, predicts on the batches given', async () => {
    const t = await tinyTrainedModel(3, 256);
    const root = await mkdtemp(join(tmpdir(), 'lionctr-gate-disk-'));
    const { version, dir } = await writeExport(root, t.model, {
      step: 3,
      examples: 768,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    // the model trains on: the rows on disk are no longer the model's
    const more: ReturnType<typeof t.featurizer.fromRecordBatch>[] = [];
    for await (const rb of createSyntheticSource({ seed: 5, limit: 1024 }).batches({ batchSize: 512 }))
      more.push(t.featurizer.fromRecordBatch(rb));
    t.step.run(more[0]);
    const served = await loadServedRows(root, version, t.model, [more[1]]);
    const whole = (await loadExport(dir)).model;
    try {
      expect(served.predict(more[1])).toEqual(whole.predict(more[1]));
      expect(t.model.predict(more[1])).not.toEqual(whole.predict(more[1]));
      // only the rows the batch needs
      expect(served.tables.reduce((a, x) => a + x.size, 0)).toBeLessThan(whole.tables.reduce((a, x) => a + x.size, 0));
    } finally {
      served.dispose();
      whole.dispose();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('PublishGate and delta exports', () => {
  it('deltas start on a published version only, and wait while one is judged and after a refusal', async () => {
    const t = await tinyTrainedModel(6, 512);
    const root = await mkdtemp(join(tmpdir(), 'lionctr-gate-deltas-'));
    const published: string[] = [];
    const events: GateEvent[] = [];
    const gate = new PublishGate({
      model: t.model,
      step: t.step,
      featurizer: t.featurizer,
      config: {
        enabled: true,
        examples: 2048,
        maxAucDrop: 0.02,
        calibration: [0.5, 2],
        maxHoldSeconds: 60,
        minClicks: 20,
      },
      exportDir: root,
      keep: 3,
      resumed: false,
      logger: pino({ level: 'silent' }),
      remaining: () => Number.POSITIVE_INFINITY,
      emit: (e) => events.push(e),
      onPublish: (v) => {
        published.push(v);
      },
    });
    const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };
    const v1 = (await writeCandidate(root, t.model, meta)).version;
    await gate.afterExport(v1);
    expect([published, gate.deltasAllowed]).toEqual([[v1], true]);
    // the model made worse: its global bias (the tower's output bias) raised by 4
    const bias = t.model.tower.vars.at(-1)!;
    tf.tidy(() => bias.assign(tf.add(bias, 4)));
    const v2 = (await writeCandidate(root, t.model, meta)).version;
    await gate.afterExport(v2);
    expect(gate.deltasAllowed).toBe(false); // judged: waits for its held-out examples
    const held = [];
    for await (const rb of createSyntheticSource({ seed: 9, limit: 2048 }).batches({ batchSize: 1024 })) {
      const back = await gate.offer(rb);
      held.push(...back);
    }
    expect(held.length).toBe(2); // both batches given back once decided
    expect(events.at(-1)).toMatchObject({ version: v2, decision: 'refused', reasons: ['calibration'] });
    expect([published, gate.deltasAllowed]).toEqual([[v1], false]);
    expect(await readLatest(root)).toBe(v1);
    await rm(root, { recursive: true, force: true });
  });
});
