/**
 * Paths confined to the export root (issue 17, "Paths are not confined to the export root"):
 * LATEST naming `../outside/<version>`, manifest `files` entries like `../../outside/hostname`
 * or an absolute path, and symbolic links out of a version are refused before any file outside
 * is opened, by every reader: resolveExportDir and `lionctr eval`, loadExport, readDelta, the model
 * registry of `serve`. What lies outside are named pipes (test/helpers/fifo-trap.ts): a reader
 * that opens one is counted, so the tests fail on any open outside, not on its consequences.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadExport, loadVersion, readLatest, resolveExportDir } from '../../src/model/export-reader.ts';
import { checkFileEntry, checkVersionName, confinedPath } from '../../src/model/export-paths.ts';
import { readDelta } from '../../src/serve/delta-reader.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { type FifoTrap, fifoTrap } from '../helpers/fifo-trap.ts';
import { useFixture } from '../helpers/fixture.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

const fx = useFixture();
const traps: FifoTrap[] = [];
afterEach(async () => {
  for (const t of traps.splice(0)) await t.stop();
});

/** `<base>/exports` holding one real export, and `<base>/outside/` with pipes planted by `plant`. */
async function layout(): Promise<{ base: string; root: string; version: string; outside: string }> {
  const base = fx.tempDir('export-paths');
  const root = join(base, 'exports'),
    outside = join(base, 'outside');
  mkdirSync(outside);
  const { model } = await tinyTrainedModel(1, 64);
  const meta = { step: 1, examples: 64, sourceOffsets: {}, watermarkMs: null, metrics: {} };
  const { version } = await writeExport(root, model, meta);
  model.dispose();
  return { base, root, version, outside };
}

/** Named pipes at `paths` (dirs created), polled for readers until the test ends. */
function plant(paths: string[]): FifoTrap {
  for (const p of paths) mkdirSync(join(p, '..'), { recursive: true });
  const t = fifoTrap(paths);
  traps.push(t);
  return t;
}

/** Adds `extra` entries to the manifest of `<root>/<version>` (fake sums). */
function addEntries(root: string, version: string, extra: string[]): void {
  const path = join(root, version, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  for (const e of extra) m.files[e] = '0'.repeat(64);
  writeFileSync(path, JSON.stringify(m));
}

describe('export paths', () => {
  beforeAll(async () => {
    await tinyTrainedModel(1, 8); // backend selected once
  });

  it('names: versions are digits, entries relative paths inside the version', () => {
    for (const v of ['0', '1700000000000']) expect(() => checkVersionName(v, 'LATEST')).not.toThrow();
    for (const v of ['', '../outside/1', '/tmp/1', '1a', ' 1', '1/2', '..'])
      expect(() => checkVersionName(v, 'LATEST'), v).toThrow(/not a version name/);
    for (const e of ['manifest.json', 'dense/model.json', 'embeddings/C1.arrow', 'delta-3/rows/C1.arrow', '.x'])
      expect(() => checkFileEntry(e, 'm'), e).not.toThrow();
    for (const e of ['', '/etc/hostname', '../x', 'a/../../x', 'a//b', './a', 'a/.', 'a\\b', 'a\0b', 'a/'])
      expect(() => checkFileEntry(e, 'm'), JSON.stringify(e)).toThrow(/not a relative path inside the version/);
    expect(confinedPath('/r', '12', 'dense/model.json')).toBe('/r/12/dense/model.json');
    expect(() => confinedPath('/r', '../12')).toThrow(/not a version name/);
  });

  it('manifest entries out of the version (relative, absolute) are refused before anything is opened', async () => {
    const { root, version, outside } = await layout();
    const out = [join(outside, 'hostname'), join(outside, 'cmdline')];
    const trap = plant(out);
    // from <root>/<version>: ../../outside/hostname is <base>/outside/hostname
    addEntries(root, version, ['../../outside/hostname', out[1]]);
    await expect(loadExport(join(root, version))).rejects.toMatchObject({
      code: 'LIONCTR_BAD_EXPORT',
      message: expect.stringMatching(/file entry "\.\.\/\.\.\/outside\/hostname" is not a relative path/),
    });
    // serve: the registry refuses the version (logged, counted) and serves nothing
    const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0);
    const failed: string[] = [];
    registry.on('loadFailed', (e) => failed.push(e.message));
    await registry.check();
    expect(failed).toEqual([expect.stringMatching(/not a relative path inside the version/)]);
    expect(registry.current()).toBeUndefined();
    registry.stop();
    expect(trap.sprung()).toEqual([]);
  });

  it('symbolic links out of a version, or a version dir linked from outside, are refused unopened', async () => {
    const { root, version, outside } = await layout();
    const table = join(outside, 'C1.arrow'),
      manifest = join(outside, '1800000000000', 'manifest.json');
    const trap = plant([table, manifest]);
    // a listed file replaced by a link to a pipe outside
    unlinkSync(join(root, version, 'embeddings', 'C1.arrow'));
    symlinkSync(table, join(root, version, 'embeddings', 'C1.arrow'));
    await expect(loadExport(join(root, version))).rejects.toThrow(/symbolic link leads outside/);
    // a version directory that is a link to one outside
    symlinkSync(join(outside, '1800000000000'), join(root, '1800000000000'));
    await expect(loadVersion(root, '1800000000000')).rejects.toThrow(/symbolic link leads outside/);
    writeFileSync(join(root, 'LATEST'), '1800000000000\n');
    await expect(resolveExportDir(root)).rejects.toThrow(/symbolic link leads outside/);
    const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0);
    await registry.check();
    expect(registry.current()).toBeUndefined(); // both versions refused
    registry.stop();
    expect(trap.sprung()).toEqual([]);
  });

  it('delta manifest entries out of the delta, or links out of it, are refused unopened', async () => {
    const { root, version, outside } = await layout();
    const out = [join(outside, 'rows.arrow'), join(outside, 'abs.arrow'), join(outside, 'linked.arrow')];
    const trap = plant(out);
    const { model } = await tinyTrainedModel(1, 64);
    const manifestBytes = readFileSync(join(root, version, 'manifest.json'));
    const prev = { baseVersion: version, nextSeq: 1, version, manifestBytes };
    const meta = { step: 2, examples: 64, sourceOffsets: {}, watermarkMs: null, metrics: {} };
    const rows = model.tables.map((t) => Int32Array.from({ length: Math.min(t.size, 3) }, (_, i) => i));
    await writeDelta(join(root, version), prev, model, rows, meta);
    const deltaDir = join(root, version, 'delta-1');
    const manifest = readFileSync(join(deltaDir, 'manifest.json'), 'utf8');
    // from <root>/<version>/delta-1: ../../../outside/rows.arrow is <base>/outside/rows.arrow
    for (const entry of ['../../../outside/rows.arrow', out[1]]) {
      const m = JSON.parse(manifest);
      m.files[entry] = '0'.repeat(64);
      writeFileSync(join(deltaDir, 'manifest.json'), JSON.stringify(m));
      await expect(readDelta(deltaDir, prev, model)).rejects.toThrow(/leaves the delta directory|not a relative path/);
    }
    // a listed table replaced by a link to a pipe outside
    writeFileSync(join(deltaDir, 'manifest.json'), manifest);
    const listed = Object.keys(JSON.parse(manifest).files).find((f) => f.endsWith('.arrow')) as string;
    unlinkSync(join(deltaDir, listed));
    symlinkSync(out[2], join(deltaDir, listed));
    await expect(readDelta(deltaDir, prev, model)).rejects.toThrow(/symbolic link leads outside/);
    model.dispose();
    expect(trap.sprung()).toEqual([]);
  });

  it('LATEST naming ../outside/<version>: eval, resolveExportDir and serve refuse it unopened', async () => {
    const { base, root, outside } = await layout();
    const fake = '1900000000000';
    const trap = plant([join(outside, fake, 'manifest.json'), join(outside, fake, 'dense', 'model.json')]);
    writeFileSync(join(root, 'LATEST'), `../outside/${fake}\n`);
    await expect(resolveExportDir(root)).rejects.toThrow(/LATEST must hold a version number/);
    await expect(readLatest(root)).rejects.toThrow(/LATEST must hold a version number/);
    // lionctr eval --model <root>, as a user runs it
    const r = await new Promise<{ code: number | null; err: string }>((res) => {
      const c = execFile(
        process.execPath,
        ['bin/lionctr.mjs', 'eval', '--model', root, '--input', join(base, 'none.csv')],
        { encoding: 'utf8', timeout: 60_000 },
        (_e, _out, err) => res({ code: c.exitCode, err }),
      );
      fx.track(c);
    });
    expect(r.err).toMatch(/LATEST must hold a version number/);
    expect(r.code).not.toBe(0);
    expect(trap.sprung()).toEqual([]);
    // an absolute path in LATEST: the same
    renameSync(join(root, 'LATEST'), join(root, 'LATEST.rel'));
    writeFileSync(join(root, 'LATEST'), `${join(outside, fake)}\n`);
    await expect(resolveExportDir(root)).rejects.toThrow(/LATEST must hold a version number/);
    expect(trap.sprung()).toEqual([]);
  }, 90_000);
});
