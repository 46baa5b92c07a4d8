/**
 * `lionctr native build` (what `npm run native:build` runs) where the native backend is built:
 * a second run checks that it loads and stops without building (idempotent, exit 0), and the
 * build left package.json and package-lock.json without @tensorflow/tfjs-node (it installs
 * with --no-save). Skipped, saying so, where the backend is not built; fails under CI=true,
 * where .ci/run builds it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/model/backend.ts';

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
});
