/**
 * `lionctr native build` (what `npm run native:build` runs) where the native backend is built:
 * a second run checks that it loads and stops without building (idempotent, exit 0), and the
 * build left package.json and package-lock.json without @tensorflow/tfjs-node (it installs
 * with --no-save). Skipped, saying so, where the backend is not built; fails under CI=true,
 * where .ci/run builds it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMallocAddon, mallocAddonBuilt } from '../../src/cli/native/malloc-addon.ts';
import { preflight } from '../../src/cli/native/host.ts';
import { loadNative } from '../../src/model/backend.ts';
import { mallocAddonPath } from '../../src/model/malloc-tunables.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const reason = (() => {
  try {
    loadNative();
    return '';
  } catch (err) {
    return (err as Error).message;
  }
})();
const ci = process.env.CI === 'true';
const skip = reason !== '' && !ci;
if (reason) console.warn(`native build CLI test ${ci ? 'FAILS' : 'skipped'}: native backend not built: ${reason}`);

describe.skipIf(skip)(`lionctr native build, once built${skip ? ` [skipped: ${reason}]` : ''}`, () => {
  it('a second run stops at the check, exit 0; package.json and the lockfile do not name tfjs-node', () => {
    expect(reason, 'CI=true needs the native backend: npm run native:build').toBe('');
    const r = spawnSync('node', ['bin/lionctr.mjs', 'native', 'build'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/native backend already built \(tensorflow, tfjs-core 4\.22\.0\): nothing to do/);
    expect(r.stdout).toMatch(/^native build skipped in \d+\.\d s$/m);
    expect(r.stdout).not.toMatch(/native build step/);
    for (const f of ['package.json', 'package-lock.json']) {
      expect(readFileSync(join(ROOT, f), 'utf8'), f).not.toContain('"node_modules/@tensorflow/tfjs-node"');
      expect(readFileSync(join(ROOT, f), 'utf8'), f).not.toMatch(/"@tensorflow\/tfjs-node":/);
    }
  });

  it('the malloc step builds lionctr_malloc.node into a root lacking it, loads, skips it the second time', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lionctr-malloc-'));
    try {
      const log: string[] = [];
      const o = {
        root,
        cacheDir: join(root, 'cache'),
        wheelSpec: '',
        force: false,
        log: (l: string) => log.push(l),
        env: process.env,
      };
      const tools = await preflight(o);
      expect(mallocAddonBuilt(root)).toBe(false);
      expect(await buildMallocAddon(o, tools)).toMatch(/^built .*lionctr_malloc\.node/);
      expect(existsSync(mallocAddonPath(root))).toBe(true);
      expect(mallocAddonBuilt(root)).toBe(true);
      const addon = createRequire(import.meta.url)(mallocAddonPath(root)) as {
        tune: (a: number, b: number) => boolean;
      };
      expect(addon.tune(-1, 1)).toBe(false); // refused before mallopt: nothing changed in this process
      expect(await buildMallocAddon(o, tools)).toMatch(/already built$/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
