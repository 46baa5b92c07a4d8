/**
 * Issue 17, "`run` stops serving whenever its trainer fails" and "a full disk", on a real
 * `lionctr run` process over real HTTP: its exports and checkpoints on a small tmpfs that a
 * filler keeps full for a while. Wanted: the endpoint answers every prediction throughout (0
 * failed requests); the failed writes are counted by kind, logged with the file and what was
 * written, and leave no temp directory; the trainer stays up (it trains on, retrying its
 * writes); and once the space is free again, training goes on by itself: a new version is
 * exported, published and served, and a new checkpoint is written. Needs root to mount the
 * tmpfs; skipped elsewhere, saying so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { freePort, get, metric, predictLoop, quickRunSets, sleep, spawnRun, until } from '../helpers/run-process.ts';
import { DiskFiller, fileSizeLimit, mountTmpfs } from '../helpers/tmpfs.ts';

const fx = useFixture();
const root = mkdtempSync(join(tmpdir(), 'lionctr-runfaults-'));
// the real thing when root: a 256 MB tmpfs kept full (once freed, room for the checkpoint kept and its
// successor: checkpoints grew to 37 MB within a run, and on 64 MB every later one failed with ENOSPC);
// else a file size limit set on the process (EFBIG on every write past 4 KB); LIONCTR_TEST_DISK_FAULT=fsize
// forces the latter
const disk = process.env.LIONCTR_TEST_DISK_FAULT === 'fsize' ? { skip: 'forced' } : mountTmpfs(join(root, 'disk'), 256);
afterAll(() => {
  if ('unmount' in disk) disk.unmount();
  rmSync(root, { recursive: true, force: true });
});
const noFsize = 'skip' in disk ? fileSizeLimit.unavailable() : '';
const mode = 'skip' in disk ? (noFsize ? null : 'fsize') : 'tmpfs';
if ('skip' in disk)
  console.warn(`run fault test: no tmpfs (${disk.skip}); ${mode ? 'a file size limit instead' : noFsize}`);
const describeFault = mode ? describe : describe.skip;

/** Temp directories (`.tmp-*`) under `dir` and one level down (exports root, checkpoints root). */
function tempDirs(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    if (n.startsWith('.tmp-')) out.push(n);
    if (n === 'checkpoints') for (const m of readdirSync(join(dir, n))) if (m.startsWith('.tmp-')) out.push(m);
  }
  return out;
}

describeFault(`run on a full disk (${mode ?? `skipped: ${noFsize}`})`, () => {
  it('serves every prediction while its writes fail, leaves no temp dir, trains on when space is back', async () => {
    const dir = 'dir' in disk ? disk.dir : fx.tempDir('runfaults');
    const exportDir = join(dir, 'exports');
    const reason = mode === 'tmpfs' ? 'ENOSPC' : 'EFBIG';
    const port = await freePort();
    const sets = quickRunSets(port, {
      'export.dir': exportDir,
      'train.writeRetrySeconds.min': 0.2,
      'train.writeRetrySeconds.max': 1,
    });
    const run = spawnRun(sets, fx, mode === 'fsize');
    await until('the first export served', async () => (await get(port, '/readyz')).status === 200, 90_000);
    const load = predictLoop(port);
    await sleep(1500);

    // the disk fills up: every export and checkpoint fails for ~6 s
    const filler = mode === 'tmpfs' ? new DiskFiller(dir) : null;
    if (!filler) fileSizeLimit.set(run.c.pid!, 4096);
    const failed = async (kind: string) => {
      if (run.c.exitCode !== null) throw new Error(`lionctr run exited (${run.c.exitCode}): ${run.log().slice(-1500)}`);
      return metric(port, `lionctr_train_write_failures_total{kind="${kind}"}`);
    };
    await until(
      'an export and a checkpoint failed',
      async () => (await failed('export')) >= 1 && (await failed('checkpoint')) >= 1,
      90_000, // a checkpoint waits while the publish gate holds rows: on a loaded machine the first may take long
    );
    const latestWhileFull = readFileSync(join(exportDir, 'LATEST'), 'utf8').trim();
    const leftovers: string[][] = [];
    for (let i = 0; i < 4; i++) {
      leftovers.push(tempDirs(exportDir));
      await sleep(1500);
    }
    const during = await get(port, '/readyz');
    const upWhileFull = await metric(port, 'lionctr_train_up');
    const failuresWhileFull = { export: await failed('export'), checkpoint: await failed('checkpoint') };
    if (filler) filler.release();
    else fileSizeLimit.set(run.c.pid!, 'unlimited');

    // space is back: a new version is exported, published and served; a checkpoint is written
    await until(
      'a version newer than the one before the disk filled served',
      async () => Number((await get(port, '/readyz')).body?.model_version) > Number(latestWhileFull),
      60_000,
    );
    const ckptAt = await metric(port, 'lionctr_checkpoint_last_timestamp_seconds');
    try {
      await until(
        'a checkpoint written after the disk was freed',
        async () => (await metric(port, 'lionctr_checkpoint_last_timestamp_seconds')) > ckptAt,
        30_000,
      );
    } catch (e) {
      // say what the trainer was doing (on a 64 MB tmpfs the checkpoints outgrew the freed disk: ENOSPC on)
      throw new Error(`${(e as Error).message}; last checkpoint at ${ckptAt}; log tail:\n${run.log().slice(-4000)}`);
    }
    const stats = await load.stop();
    run.c.kill('SIGTERM');
    const code = await run.exited;
    const log = run.log();
    const versions = stats.versions.size;
    console.log(
      `run on a full disk: ${stats.requests} predictions, ${stats.failed} failed, ${versions} versions answered; ` +
        `write failures while full: ${JSON.stringify(failuresWhileFull)}; /readyz while full: ` +
        `${JSON.stringify(during.body)}; ${filler ? `filler held ${(filler.bytes / 1e6).toFixed(1)} MB` : mode}`,
    );

    expect(stats.failed, `failed predictions: ${stats.reasons.join(' | ')}`).toBe(0);
    expect(stats.requests).toBeGreaterThan(50);
    expect(run.c.exitCode ?? code, log.slice(-3000)).toBe(0);
    expect(during.status).toBe(200);
    expect(upWhileFull).toBe(1); // the trainer never stopped: it trained on, retrying its writes
    expect(failuresWhileFull.export).toBeGreaterThanOrEqual(1);
    expect(failuresWhileFull.checkpoint).toBeGreaterThanOrEqual(1);
    // the error names the file and the operation, not only "ENOSPC: ..., write"
    expect(log).toMatch(
      new RegExp(
        `export version \\d+ under \\S+: write of [\\d.]+ (MB|B) failed: ${reason}[^\\n]*\\(at \\S+\\.tmp-\\d+/\\S+\\)`,
      ),
    );
    expect(log).toMatch(new RegExp(`checkpoint step \\d+ under \\S+checkpoints: [^\\n]*${reason}[^\\n]*\\(at \\S+\\)`));
    // a failed write leaves no temp dir behind: none stays from one look to the next (1.5 s apart)
    for (let i = 1; i < leftovers.length; i++) {
      const stayed = leftovers[i].filter((n) => leftovers[i - 1].includes(n));
      expect(stayed, `temp dirs that stayed: ${stayed}`).toEqual([]);
    }
  }, 240_000);
});
