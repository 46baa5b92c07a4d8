/**
 * The trainer's writes on a real full disk (issue 17, "a full disk"): a small tmpfs that a
 * filler keeps full. A checkpoint, an export, its publication and a delta each fail with
 * LIONCTR_WRITE_FAILED naming what was written, the file and the operation (not only
 * "ENOSPC: no space left on device, write"); each removes its temp directory at once; state
 * stays consistent (LATEST unchanged and the previous checkpoint and export still read back
 * whole); and each succeeds once the space is free again. Needs root to mount the tmpfs;
 * skipped elsewhere, saying so.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExport } from '../../../src/model/export-reader.ts';
import { readLatestCheckpoint, writeCheckpoint } from '../../../src/train/checkpoint.ts';
import { writeDelta } from '../../../src/train/delta-writer.ts';
import { publishCandidate, writeCandidate, writeExport } from '../../../src/train/export-writer.ts';
import { captureState } from '../../../src/train/train-state.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';
import { DiskFiller, mountTmpfs } from '../../helpers/tmpfs.ts';

const root = mkdtempSync(join(tmpdir(), 'lionctr-fulldisk-'));
const disk = mountTmpfs(join(root, 'disk'), 16);
afterAll(() => {
  if ('unmount' in disk) disk.unmount();
  rmSync(root, { recursive: true, force: true });
});
if ('skip' in disk) console.warn(`full-disk write tests skipped: ${disk.skip}`);
const describeDisk = 'skip' in disk ? describe.skip : describe;

const meta = (step: number) => ({
  examples: step * 256,
  sourceOffsets: { 's/0': step * 256 },
  pass: 0,
  passExamples: step * 256,
  watermarkMs: null,
  modelFingerprint: 'f',
  step,
  metrics: {},
});
const temps = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.tmp') || n.startsWith('.candidate'));
const latest = (dir: string) => readFileSync(join(dir, 'LATEST'), 'utf8').trim();

/** Runs `fn` with the disk full; the filler is released after, whatever happens. */
async function whileFull<T>(fn: () => Promise<T>): Promise<T> {
  const f = new DiskFiller((disk as { dir: string }).dir);
  try {
    return await fn();
  } finally {
    f.release();
  }
}

describeDisk(`writes on a full disk${'skip' in disk ? ` [skipped: ${disk.skip}]` : ''}`, () => {
  it('a checkpoint fails naming its file, leaves no temp dir, keeps the previous one; then succeeds', async () => {
    const t = await tinyTrainedModel(2, 256);
    const dir = join((disk as { dir: string }).dir, 'ckpt');
    await writeCheckpoint(dir, await captureState(t.step), meta(2));
    const state = await captureState(t.step);
    const err = await whileFull(() => writeCheckpoint(dir, { ...state, step: 3 }, meta(3)).catch((e) => e));
    expect(err).toMatchObject({ code: 'LIONCTR_WRITE_FAILED', reason: 'ENOSPC' });
    const named =
      /^checkpoint step 3 under \S+ckpt: write of [\d.]+ (B|MB) failed: ENOSPC: no space left on device, write/;
    expect(err.message).toMatch(named);
    expect(err.message).toMatch(/ \(at \S+ckpt\/\.tmp-3\/state\.bin\)$/);
    expect(temps(dir)).toEqual([]);
    expect(latest(dir)).toBe('2');
    const back = await readLatestCheckpoint(dir, (d, e) => {
      throw new Error(`${d}: ${e.message}`);
    });
    expect(back?.step).toBe(2);
    await writeCheckpoint(dir, { ...state, step: 3 }, meta(3));
    expect(latest(dir)).toBe('3');
  });

  it('an export and its publication fail naming the file, leave nothing, keep LATEST; then succeed', async () => {
    const t = await tinyTrainedModel(2, 256);
    const dir = join((disk as { dir: string }).dir, 'exports');
    const v1 = await writeExport(dir, t.model, meta(2));
    const err = await whileFull(() => writeCandidate(dir, t.model, meta(3)).catch((e) => e));
    expect(err).toMatchObject({ code: 'LIONCTR_WRITE_FAILED', reason: 'ENOSPC' });
    expect(err.message).toMatch(
      /^export version \d+ under \S+exports: [^\n]*ENOSPC[^\n]*\(at \S+exports\/\.tmp-\d+\/\S+\)$/,
    );
    expect(temps(dir)).toEqual([]);
    // written with space, published on a full disk: LATEST cannot be replaced; the candidate goes
    const c = await writeCandidate(dir, t.model, meta(3));
    const perr = await whileFull(() => publishCandidate(dir, c.version).catch((e) => e));
    expect(perr).toMatchObject({ code: 'LIONCTR_WRITE_FAILED', reason: 'ENOSPC' });
    expect(perr.message).toMatch(/^publishing export version \d+: [^\n]*ENOSPC[^\n]*\(at \S+exports\/\.LATEST\.tmp\)$/);
    expect(temps(dir)).toEqual([]);
    expect(readdirSync(dir).filter((n) => /^\d+$/.test(n))).toEqual([v1.version]);
    expect(latest(dir)).toBe(v1.version);
    const served = await loadExport(join(dir, v1.version));
    expect(served.manifest.version).toBe(v1.version);
    served.model.dispose();
    const v2 = await writeExport(dir, t.model, meta(4));
    expect(latest(dir)).toBe(v2.version);
  });

  it('a delta fails naming its file and leaves no temp dir in its base', async () => {
    const t = await tinyTrainedModel(2, 256);
    const dir = join((disk as { dir: string }).dir, 'deltas');
    const base = await writeExport(dir, t.model, meta(2));
    const manifestBytes = readFileSync(join(base.dir, 'manifest.json'));
    const prev = { baseVersion: base.version, nextSeq: 1, version: base.version, manifestBytes };
    const rows = t.model.tables.map((tb) => Int32Array.from({ length: tb.size }, (_, i) => i));
    const err = await whileFull(() => writeDelta(base.dir, prev, t.model, rows, meta(3)).catch((e) => e));
    expect(err).toMatchObject({ code: 'LIONCTR_WRITE_FAILED', reason: 'ENOSPC' });
    expect(err.message).toMatch(/^delta 1 under \S+: [^\n]*ENOSPC[^\n]*\(at \S+\.tmp-delta-1\/\S+\)$/);
    expect(readdirSync(base.dir).filter((n) => n.includes('delta'))).toEqual([]);
    const d = await writeDelta(base.dir, prev, t.model, rows, meta(3));
    expect(readdirSync(base.dir).filter((n) => n.includes('delta'))).toEqual(['delta-1']);
    expect(d.rows).toBeGreaterThan(0);
  });
});
