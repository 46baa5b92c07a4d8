/**
 * Export pruning against loading (issue 17, "Export pruning races with loading"): the trainer
 * keeps every version superseded less than a grace time ago beyond the newest `keep`
 * (export-files.ts pruneVersions), and a load that loses its version to pruning anyway is
 * `superseded`: logged at info, not counted as a failure, and LATEST is read again.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { pruneVersions } from '../../src/train/export-files.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { useFixture } from '../helpers/fixture.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';
import { FAULT_SCALE } from '../helpers/fault-scale.ts';

const fx = useFixture();
const WRITER = join(import.meta.dirname, '../helpers/prune-writer.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pino logger into `lines` (level, msg). */
function captureLogger(lines: { level: number; msg: string }[]) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

const meta = (n: number) => ({ step: n, examples: n, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('export pruning and loading', () => {
  it('keeps versions superseded less than the grace time ago beyond the newest keep, never LATEST', async () => {
    const root = fx.tempDir('prune-grace');
    for (const v of ['100', '200', '300', '400']) mkdirSync(join(root, v));
    const names = () => readdirSync(root).sort();
    // just published (ctime now): nothing beyond keep 1 goes within the grace time
    expect(await pruneVersions(root, names(), '400', { keep: 1, graceMs: 60_000 })).toEqual([]);
    expect(names()).toEqual(['100', '200', '300', '400']);
    await sleep(300);
    // LATEST moved back to 200: it stays whatever its age
    expect(await pruneVersions(root, names(), '200', { keep: 1, graceMs: 250 })).toEqual(['300', '100']);
    expect(names()).toEqual(['200', '400']);
  });

  it('a version pruned while it loads is superseded: logged at info, LATEST read again, no failure', async () => {
    const root = fx.tempDir('prune-superseded');
    const { model } = await tinyTrainedModel(1, 64);
    const { version: good } = await writeExport(root, model, meta(1));
    model.dispose();
    // a version whose manifest is a pipe: its load waits there until the test lets it go on
    const doomed = String(Number(good) + 1);
    mkdirSync(join(root, doomed));
    execFileSync('mkfifo', [join(root, doomed, 'manifest.json')]);
    writeFileSync(join(root, 'LATEST'), `${doomed}\n`);
    const lines: { level: number; msg: string }[] = [];
    const registry = new ModelRegistry(root, captureLogger(lines), 0);
    const failed: string[] = [];
    registry.on('loadFailed', (e) => failed.push(e.message));
    const checked = registry.check();
    // the load has opened the manifest (a writer can open the pipe only then)
    let fd = -1;
    for (let t = 0; fd < 0; t++) {
      try {
        fd = openSync(join(root, doomed, 'manifest.json'), constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        if (t > 2000) throw new Error('the registry never opened the manifest');
        await sleep(5);
      }
    }
    // the trainer publishes `good` again as LATEST and prunes `doomed`, then the read ends
    writeFileSync(join(root, 'LATEST'), `${good}\n`);
    renameSync(join(root, doomed), join(root, `.del-${doomed}`));
    closeSync(fd);
    await checked;
    expect(registry.current()?.version).toBe(good);
    expect(failed).toEqual([]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    const info = lines.filter((l) => l.level === 30 && /superseded/.test(l.msg));
    expect(info).toHaveLength(1);
    expect(info[0].msg).toContain(`export ${doomed} superseded`);
    registry.stop();
  });

  /**
   * A trainer process exporting back to back while a registry polls: `keep 1, grace 0` prunes
   * each version as soon as the next is published (loads lose files to it: superseded, none
   * failed); the default grace (keep 1, 60 s) prunes nothing a load may want (none superseded).
   */
  async function race(keep: number, graceMs: number, seconds: number) {
    const root = fx.tempDir('prune-load');
    const { model } = await tinyTrainedModel(1, 64);
    await writeExport(root, model, meta(0), { keep, graceMs });
    model.dispose();
    const lines: { level: number; msg: string }[] = [];
    const registry = new ModelRegistry(root, captureLogger(lines), 0.005, { keepVersions: 1 });
    const failed: string[] = [];
    let loaded = 0;
    registry.on('loadFailed', (e) => failed.push(`${e.version}: ${e.message}`));
    registry.on('loaded', () => loaded++);
    registry.start();
    const child = fx.track(
      spawn(process.execPath, ['--import', 'tsx', WRITER, root, String(keep), String(graceMs), String(seconds)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    await new Promise((res) => child.once('exit', res));
    await sleep(300);
    registry.stop();
    const published = out.split('\n').filter((l) => l.startsWith('wrote')).length;
    const superseded = lines.filter((l) => /superseded/.test(l.msg)).length;
    console.log(
      `prune race (keep ${keep}, grace ${graceMs} ms): ${published} versions published in ${seconds} s, ` +
        `${loaded} loaded, ${superseded} superseded while loading, ${failed.length} failed ` +
        `(load average ${loadavg()[0].toFixed(2)})`,
    );
    expect(out).toContain('done');
    expect(failed).toEqual([]);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(loaded).toBeGreaterThanOrEqual(3);
    return { superseded, loaded, published };
  }

  it(
    'a trainer pruning at once (keep 1, no grace) while a registry polls: loads superseded, 0 failed',
    async () => {
      // how many loads lose their version depends on the machine (3 of 42 in one run at load 4.8);
      // the superseded path itself is tested deterministically above
      await race(1, 0, 8 * FAULT_SCALE);
    },
    90_000 + 20_000 * FAULT_SCALE,
  );

  it(
    'with the grace time (keep 1, 60 s): nothing a load wants is pruned, 0 superseded, 0 failed',
    async () => {
      const r = await race(1, 60_000, 5 * FAULT_SCALE);
      expect(r.superseded).toBe(0);
    },
    90_000 + 20_000 * FAULT_SCALE,
  );
});
