import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { readLatestCheckpoint } from '../../src/train/checkpoint.ts';
import { captureState, type TrainState } from '../../src/train/train-state.ts';
import { jsonLines } from '../helpers/json-lines.ts';
import { stateDigest } from '../helpers/state-digest.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lionctr-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const silent = pino({ level: 'silent' });

// a small model on the synthetic stream: 6 steps of 500, interrupted after 3
const base = [
  'source.kind="synthetic"',
  'source.limit=3000',
  'train.batchSize=500',
  'model.hidden=[8]',
  'schema.embeddingDim=4',
  'train.progressSeconds=0',
  'export.intervalSeconds=0',
  'checkpoint.intervalSeconds=0',
];

interface Run {
  state: TrainState;
  examples: number;
}

async function train(dir: string | null, extra: string[] = [], abortAfterSteps = 0): Promise<Run> {
  const cfg = loadConfig(
    [],
    [...base, ...extra, ...(dir ? [`checkpoint.dir=${JSON.stringify(dir)}`] : ['checkpoint.enabled=false'])],
  );
  const ac = new AbortController();
  const t = await createTrainer(cfg, silent, { exportDir: null, signal: ac.signal });
  let steps = 0;
  // abort while the trainer waits for the source, as a SIGTERM usually comes
  if (abortAfterSteps)
    t.on('step', () => {
      if (++steps === abortAfterSteps) setImmediate(() => ac.abort());
    });
  const s = await t.run();
  return { state: await captureState(t.opts.step), examples: s.progress.examples };
}

const words = stateDigest;

/** A resumed run trained `examples` examples in all and ended in `whole`'s state, bit for bit. */
function expectSameAsWhole(resumed: Run, whole: Run, examples: number): void {
  expect(resumed.examples).toBe(examples);
  expect(words(resumed.state)).toBe(words(whole.state));
}

describe('checkpoints', () => {
  it('stop after 3 steps + restart = one uninterrupted run, bit for bit ' +
    '(synthetic source resumes at its offset)', async () => {
    const whole = await train(null);
    const dir = tmp();
    const first = await train(dir, ['train.maxExamples=1500']);
    expect(first.examples).toBe(1500);
    const ck = await readLatestCheckpoint(dir);
    expect(ck?.step).toBe(3);
    expect(ck?.meta.sourceOffsets).toEqual({ 'synthetic(seed=1)/0': 1500 });
    const second = await train(dir);
    expect(second.examples).toBe(3000);
    expect(second.state.step).toBe(6);
    expect(words(second.state)).toBe(words(whole.state));
    // and a third start finds nothing left to train
    const third = await train(dir);
    expect(third.state.step).toBe(6);
  }, 60_000);

  it('a file source resumes at the line after the last trained one, across passes', async () => {
    const d = tmp();
    const lines = jsonLines(900, (i) => ({
      label: i % 7 === 0 ? 1 : 0,
      ts: 1e12 + i,
      features: { C1: `u${i % 50}`, C2: `a${i % 13}`, I1: i % 10 },
    }));
    const file = join(d, 'clicks.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const src = [
      'source.kind="file"',
      `source.path=${JSON.stringify(file)}`,
      'source.format="jsonl"',
      'source.epochs=2',
      'source.limit=0',
    ];
    const whole = await train(null, src);
    const dir = join(d, 'ck');
    await train(dir, [...src, 'train.maxExamples=1400']); // stops in the 2nd pass after its first batch
    const ck = await readLatestCheckpoint(dir);
    expect(ck?.meta.pass).toBe(1);
    expect(ck?.meta.passExamples).toBe(500);
    expectSameAsWhole(await train(dir, src), whole, 1800);
  }, 60_000);

  it('a finished run resumed with more passes trains the new pass from the file start ' +
    '(= a fresh run with that many passes)', async () => {
    const d = tmp();
    const lines = jsonLines(700, (i) => ({
      label: i % 5 === 0 ? 1 : 0,
      features: { C1: `u${i % 40}`, C2: `a${i % 9}` },
    }));
    const file = join(d, 'clicks.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const src = (epochs: number) => [
      'source.kind="file"',
      `source.path=${JSON.stringify(file)}`,
      'source.format="jsonl"',
      `source.epochs=${epochs}`,
    ];
    const whole = await train(null, src(3));
    const dir = join(d, 'ck');
    await train(dir, src(2));
    expectSameAsWhole(await train(dir, src(3)), whole, 2100);
  }, 60_000);

  it('refuses a second trainer on a checkpoint directory in use, and says so', async () => {
    const dir = tmp();
    const cfg = loadConfig([], [...base, `checkpoint.dir=${JSON.stringify(dir)}`]);
    const first = await createTrainer(cfg, silent, { exportDir: null });
    await expect(createTrainer(cfg, silent, { exportDir: null })).rejects.toThrow(
      new RegExp(`in use by process ${process.pid}.*checkpoint\\.dir`),
    );
    await first.run(); // releases it
    await (await createTrainer(cfg, silent, { exportDir: null })).run();
  }, 60_000);

  it('takes over a lock whose process is gone: dead pid, own pid of an earlier process (restarted container), ' +
    'garbled old file', async () => {
    const { hostname } = await import('node:os');
    const { utimesSync } = await import('node:fs');
    for (const content of ['999999 HOST 1', `${process.pid} HOST 0`, '\u0000garbled']) {
      const dir = tmp();
      const file = join(dir, 'LOCK');
      writeFileSync(file, content.replace('HOST', hostname()));
      const old = new Date(Date.now() - 60_000);
      utimesSync(file, old, old);
      const cfg = loadConfig([], [...base, `checkpoint.dir=${JSON.stringify(dir)}`]);
      const t = await createTrainer(cfg, silent, { exportDir: null });
      expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      await t.run();
    }
  }, 60_000);

  it('a stop signal mid-pass (SIGTERM) checkpoints the pass as unfinished; the restart completes it', async () => {
    const d = tmp();
    const whole = await train(null, ['source.limit=2500']);
    await train(d, ['source.limit=2500'], 2);
    const ck = await readLatestCheckpoint(d);
    expect(ck?.meta.pass).toBe(0);
    expect(ck?.step).toBe(2);
    expectSameAsWhole(await train(d, ['source.limit=2500']), whole, 2500);
  }, 60_000);

  it('a corrupt newest checkpoint is passed over for the previous one; ' +
    'a checkpoint of another model is refused', async () => {
    const dir = tmp();
    await train(dir, ['train.maxExamples=1000', 'checkpoint.keep=3', 'checkpoint.intervalSeconds=0.000001']);
    const latest = readFileSync(join(dir, 'LATEST'), 'utf8').trim();
    expect(latest).toBe('2');
    const bin = join(dir, latest, 'state.bin');
    const b = readFileSync(bin);
    b[b.length - 1] ^= 1;
    writeFileSync(bin, b);
    const bad: string[] = [];
    const ck = await readLatestCheckpoint(dir, (d, e) => bad.push(`${d}: ${e.message}`));
    expect(ck?.step).toBe(1);
    expect(bad.join()).toMatch(/checksum mismatch/);
    const cfg = loadConfig([], [...base, 'model.hidden=[16]', `checkpoint.dir=${JSON.stringify(dir)}`]);
    await expect(createTrainer(cfg, silent, { exportDir: null })).rejects.toThrow(
      /model\.hidden: \[8\] in the checkpoint, \[16\] now.*checkpoint\.dir/,
    );
  }, 60_000);
});
