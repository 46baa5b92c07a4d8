/**
 * The publish gate of issue 11 on real files, through `createTrainer` as `lionctr train`
 * builds it: exports due after every batch, each (after the first) judged on the next
 * `export.gate.examples` examples of the synthetic stream before they are trained on.
 * - A normal run publishes: every judged decision `published`, LATEST follows the exports.
 * - A run made worse on purpose right after a judged publish (AUC > 0.6): the trainer's own
 *   TrainStep is run again on the stream's first 8 batches with labels that rank them
 *   backwards (the clicks moved to the examples of lowest true probability: same CTR) is
 *   refused from then on: LATEST stays at the good version (also after the run's last export,
 *   which has no held-out examples left), the candidates are set aside as `refused-<v>`,
 *   `lionctr_export_gate_refusals_total{reason="auc_drop"}` counts them, the gauges and the
 *   log line give the figures. Every example of the stream is still trained.
 * - After a restart (a run resumed from a checkpoint, made worse the same way before its
 *   first export), that first export is judged against the version LATEST names, read from
 *   disk, and refused; a resumed run that is not made worse publishes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import type { GateEvent } from '../../src/events/train-events.ts';
import type { FeatureBatch } from '../../src/features/feature-batch.ts';
import type { Featurizer } from '../../src/features/featurizer.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import { useFixture } from '../helpers/fixture.ts';

const fx = useFixture();
const EXAMPLES = 18 * 1024;

/**
 * The stream's first 8 batches of 1024 again, their clicks moved to the examples of lowest
 * true probability (as many as there were: the CTR is unchanged).
 */
async function backwardBatches(featurizer: Featurizer): Promise<FeatureBatch[]> {
  const out: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed: 1, limit: 8 * 1024 }).batches({ batchSize: 1024 })) {
    const b = featurizer.fromRecordBatch(rb);
    const clicks = b.labels.reduce((a, y) => a + y, 0);
    const order = Array.from({ length: b.size }, (_, i) => i).sort((x, y) => b.bayesP![x] - b.bayesP![y]);
    b.labels.fill(0);
    for (let k = 0; k < clicks; k++) b.labels[order[k]] = 1;
    out.push(b);
  }
  return out;
}

/**
 * One run of `examples` synthetic examples, exports due after every batch; `corrupt`: see the
 * module doc (at once when `resumeIn` names the exports root of a run to resume).
 */
async function run(corrupt: boolean, examples = EXAMPLES, resumeIn?: string, checkpoints = !!resumeIn) {
  const exportDir = resumeIn ?? join(fx.tempDir('gate'), 'exports');
  const cfg = loadConfig(
    [],
    [
      'source.kind="synthetic"',
      'train.batchSize=1024',
      `train.maxExamples=${examples}`,
      'model.hidden=[16]',
      'schema.embeddingDim=4',
      'train.progressSeconds=0',
      `checkpoint.enabled=${checkpoints}`,
      'export.intervalSeconds=0.001',
      'export.keep=2',
      'export.gate.enabled=true',
      'export.gate.examples=2048',
      // lrs that learn something in a few steps of a small model
      'optim.embedding.lr=0.03',
      'optim.linear.lr=0.03',
      'optim.dense.lr=0.003',
    ],
  );
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const metrics = createMetrics();
  const trainer = await createTrainer(cfg, logger, { exportDir, metrics });
  const backward = corrupt ? await backwardBatches(trainer.featurizer) : [];
  const gates: (GateEvent & { latest: string })[] = [];
  let good: string | null = null;
  if (resumeIn && corrupt) for (const b of backward) trainer.opts.step.run(b);
  trainer.on('gate', (e) => {
    gates.push({ ...e, latest: readFileSync(join(exportDir, 'LATEST'), 'utf8').trim() });
    if (corrupt && !resumeIn && good === null && e.decision === 'published' && e.candidate!.auc > 0.6) {
      good = e.version;
      for (const b of backward) trainer.opts.step.run(b);
    }
  });
  const summary = await trainer.run();
  const latest = readFileSync(join(exportDir, 'LATEST'), 'utf8').trim();
  return { exportDir, summary, gates, latest, good: good as string | null, lines, metrics };
}

describe('publish gate', () => {
  it('a normal run publishes its exports: LATEST follows them', async () => {
    const normal = await run(false, 10 * 1024);
    expect(normal.summary.examplesThisRun).toBe(10 * 1024);
    expect(normal.gates[0].decision).toBe('ungated');
    const judged = normal.gates.filter((g) => g.decision === 'published');
    expect(judged.length).toBeGreaterThanOrEqual(3);
    expect(normal.gates.filter((g) => g.decision === 'refused')).toEqual([]);
    for (const g of normal.gates) expect(g.latest).toBe(g.version);
    expect(normal.latest).toBe(normal.summary.exports.at(-1));
    for (const g of judged) {
      expect(g.examples).toBe(2048);
      expect(g.clicks).toBeGreaterThanOrEqual(20);
      expect(g.candidate!.auc).toBeGreaterThan(g.served!.auc - 0.02);
    }
    const published = normal.lines.filter((l) => l.level === 30 && l.msg.includes(' published: AUC '));
    expect(published.length).toBe(judged.length);
  }, 60_000);

  it('a run made worse on purpose is refused: LATEST unchanged, metric and log say why', async () => {
    const bad = await run(true);
    expect(bad.good).not.toBeNull();
    // every example still trained: the held-out ones after their decision
    expect(bad.summary.examplesThisRun).toBe(EXAMPLES);
    const after = bad.gates.slice(bad.gates.findIndex((g) => g.version === bad.good) + 1);
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const g of after) {
      expect(g.decision).toBe('refused');
      expect(g.latest).toBe(bad.good);
    }
    const dropped = after.filter((g) => g.reasons.includes('auc_drop'));
    expect(dropped.length).toBeGreaterThanOrEqual(1);
    for (const g of dropped) expect(g.served!.auc - g.candidate!.auc).toBeGreaterThan(0.02);
    // the run's last export had no held-out examples left: refused after a refusal
    expect(after.at(-1)!.reasons).toEqual(['unjudged_after_refusal']);
    expect(bad.latest).toBe(bad.good);
    const names = readdirSync(bad.exportDir);
    expect(names).toContain(`refused-${after.at(-1)!.version}`);
    expect(names.filter((n) => /^\d+$/.test(n) && BigInt(n) > BigInt(bad.good!))).toEqual([]);
    expect(names.filter((n) => n.startsWith('.candidate-') || n.startsWith('.tmp-'))).toEqual([]);
    const served = await loadExport(join(bad.exportDir, bad.latest));
    expect(served.manifest.version).toBe(bad.good);
    served.model.dispose();

    const text = await bad.metrics.registry.metrics();
    const count = (re: RegExp) => Number(re.exec(text)?.[1]);
    expect(count(/^lionctr_export_gate_refusals_total\{reason="auc_drop"\} (\d+)$/m)).toBe(dropped.length);
    expect(count(/^lionctr_export_gate_decisions_total\{decision="refused"\} (\d+)$/m)).toBe(after.length);
    // the gauges hold the last judged decision's figures
    const last = [...after].reverse().find((g) => !g.reasons.includes('unjudged_after_refusal'))!;
    const gauge = (model: string) =>
      Number(new RegExp(`^lionctr_export_gate_auc\\{model="${model}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(gauge('candidate')).toBeCloseTo(last.candidate!.auc, 12);
    expect(gauge('served')).toBeCloseTo(last.served!.auc, 12);
    expect(text).toMatch(/^lionctr_export_gate_snapshot_bytes \d+$/m);
    const refusals = bad.lines.filter((l) => l.level === 40 && l.msg.includes('refused:'));
    expect(refusals.length).toBe(after.length);
    expect(refusals[0].msg).toMatch(
      new RegExp(
        `^publish gate: version \\d+ refused: AUC 0\\.\\d{4} vs served 0\\.\\d{4} \\(drop 0\\.\\d{4} > ` +
          `export\\.gate\\.maxAucDrop 0\\.02\\).* on 2048 held-out examples \\(\\d+ clicks\\); ` +
          `LATEST stays at ${bad.good}`,
      ),
    );
  }, 60_000);

  it('after a restart, the first export is judged against LATEST read from disk', async () => {
    const first = await run(false, 11 * 1024, undefined, true);
    const root = first.exportDir;
    const good = first.latest;
    const resumed = await run(false, 15 * 1024, root);
    expect(resumed.summary.examplesThisRun).toBe(4 * 1024);
    expect(resumed.gates[0]).toMatchObject({ decision: 'published', examples: 2048 });
    expect(resumed.gates[0].served!.auc).toBeGreaterThan(0.6);
    expect(resumed.lines.some((l) => l.msg.includes(`the served version read from disk (${good})`))).toBe(true);

    const worse = await run(true, 19 * 1024, root);
    const before = resumed.latest;
    expect(worse.gates[0]).toMatchObject({ decision: 'refused', reasons: ['auc_drop'], latest: before });
    expect(worse.latest).toBe(before);
  }, 60_000);
});
