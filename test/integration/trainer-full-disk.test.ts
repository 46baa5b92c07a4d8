/**
 * A Trainer (built as `run` and `train` build it) whose exports and checkpoints are on a tmpfs
 * that fills up mid-run (issue 17, "a full disk"): training goes on through the failed writes
 * (every example of train.maxExamples trained), each failure is an event with its backoff
 * (doubling from train.writeRetrySeconds.min), and once the space is back the run ends with a
 * checkpoint and an export of the whole run: state stays consistent. Needs root for the tmpfs;
 * skipped elsewhere, saying so.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import type { WriteFailureEvent } from '../../src/events/train-events.ts';
import { readLatestCheckpoint } from '../../src/train/checkpoint.ts';
import { DiskFiller, mountTmpfs } from '../helpers/tmpfs.ts';

const root = mkdtempSync(join(tmpdir(), 'lionctr-trainfull-'));
const disk = mountTmpfs(join(root, 'disk'), 128);
afterAll(() => {
  if ('unmount' in disk) disk.unmount();
  rmSync(root, { recursive: true, force: true });
});
if ('skip' in disk) console.warn(`trainer full-disk test skipped: ${disk.skip}`);
const describeDisk = 'skip' in disk ? describe.skip : describe;

describeDisk(`a trainer on a disk that fills up${'skip' in disk ? ` [skipped: ${disk.skip}]` : ''}`, () => {
  it('trains on through failed writes, retries them with backoff, and ends consistent', async () => {
    const dir = (disk as { dir: string }).dir;
    const exportDir = join(dir, 'exports');
    const n = 40_000;
    const sets = {
      'train.batchSize': 256,
      'model.hidden': [16],
      'schema.embeddingDim': 4,
      'train.progressSeconds': 0,
      'train.maxExamples': n,
      'export.intervalSeconds': 0.3,
      'checkpoint.intervalSeconds': 0.3,
      'train.writeRetrySeconds.min': 0.1,
      'train.writeRetrySeconds.max': 0.4,
    };
    const cfg = loadConfig(
      [],
      Object.entries(sets).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    );
    const trainer = await createTrainer(cfg, pino({ level: 'silent' }), { exportDir });
    const failures: WriteFailureEvent[] = [];
    let filler: DiskFiller | null = null;
    let released = false;
    let stepsWhileFull = 0;
    trainer.on('export', () => {
      if (!filler && !released) filler = new DiskFiller(dir);
    });
    trainer.on('step', () => {
      if (filler) stepsWhileFull++;
    });
    trainer.on('writeFailure', (e) => {
      failures.push(e);
      const count = (k: string) => failures.filter((f) => f.kind === k).length;
      if (filler && count('export') >= 3 && count('checkpoint') >= 3) {
        filler.release();
        filler = null;
        released = true;
      }
    });
    const summary = await trainer.run();
    (filler as DiskFiller | null)?.release();

    expect(released).toBe(true);
    expect(summary.examplesThisRun).toBe(n);
    expect(stepsWhileFull).toBeGreaterThanOrEqual(2); // training went on while the disk was full
    const exportFails = failures.filter((f) => f.kind === 'export');
    expect(exportFails.slice(0, 3).map((f) => f.retryInSeconds)).toEqual([0.1, 0.2, 0.4]);
    expect(exportFails[0].reason).toBe('ENOSPC');
    // the first may fail writing its files, or publishing (replacing LATEST)
    expect(exportFails[0].error).toMatch(
      /^(export version \d+ under|publishing export version \d+)\S*: .*ENOSPC.*\(at \S+\)$/,
    );
    // consistent: the last checkpoint and the last export hold the whole run
    const ckpt = await readLatestCheckpoint(join(exportDir, 'checkpoints'));
    expect(ckpt?.meta.examples).toBe(n);
    expect(ckpt?.step).toBe(trainer.opts.step.step);
    const latest = readFileSync(join(exportDir, 'LATEST'), 'utf8').trim();
    expect(JSON.parse(readFileSync(join(exportDir, latest, 'manifest.json'), 'utf8')).examples).toBe(n);
    const temps = [...readdirSync(exportDir), ...readdirSync(join(exportDir, 'checkpoints'))].filter((x) =>
      /^\.(tmp|candidate)/.test(x),
    );
    expect(temps).toEqual([]);
    console.log(
      `trainer on a full disk: ${failures.length} write failures (${exportFails.length} export), ` +
        `${stepsWhileFull} steps trained while full, ${n} examples trained`,
    );
  }, 120_000);
});
