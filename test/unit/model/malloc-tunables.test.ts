/**
 * glibc malloc's thresholds on the native backend (src/model/malloc-tunables.ts): what tuneMalloc
 * decides from the environment, and what it does. The effect is checked in child processes
 * (the setting is process-wide and once): a 12 MiB ArrayBuffer gets a mapping of its own in
 * /proc/self/maps untuned (glibc's 128 KiB mmap threshold), and comes from the heap tuned by the
 * addon `npm run native:build` builds (src/model/native/malloc_tune.c). Without the addon that
 * part is skipped, saying so; under CI=true (which builds it) it fails instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decideMallocTuning,
  MALLOC_TUNABLES,
  MMAP_THRESHOLD_BYTES,
  mallocAddonPath,
  TRIM_THRESHOLD_BYTES,
} from '../../../src/model/malloc-tunables.ts';

const linux = process.platform === 'linux';
const addon = mallocAddonPath();
const built = existsSync(addon);

describe('decideMallocTuning', () => {
  it.skipIf(!linux)('leaves malloc to the user (off switch, GLIBC_TUNABLES) and says when the addon is missing', () => {
    const log: string[] = [];
    expect(decideMallocTuning((m) => log.push(m), { LIONCTR_MALLOC_TUNE: 'off' }, addon)).toBe('left');
    expect(decideMallocTuning((m) => log.push(m), { GLIBC_TUNABLES: MALLOC_TUNABLES }, addon)).toBe('left');
    expect(log).toEqual([
      'malloc: left as is (LIONCTR_MALLOC_TUNE=off)',
      `malloc: left to GLIBC_TUNABLES (${MALLOC_TUNABLES})`,
    ]);
    const none = join(import.meta.dirname, 'no-such-addon.node');
    expect(decideMallocTuning((m) => log.push(m), {}, none)).toBe('missing');
    expect(log[2]).toContain(`${none} is not built (npm run native:build builds it)`);
    expect(log[2]).toContain(`GLIBC_TUNABLES=${MALLOC_TUNABLES}`);
  });

  it('sets the mmap threshold to its 32 MiB maximum and keeps up to 64 MiB of free heap top', () => {
    expect([MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES]).toEqual([33554432, 67108864]);
    expect(MALLOC_TUNABLES).toBe('glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864');
  });
});

/**
 * In a fresh process (env: extra variables), tuneMalloc's outcome and whether a 12 MiB
 * ArrayBuffer, written through, got a new private anonymous read-write mapping of its size (up to
 * 64 KiB more: glibc's chunk header, rounded to pages), not the [heap] grown.
 */
function allocate(env: NodeJS.ProcessEnv): { outcome: string; ownMapping: boolean } {
  const mod = join(import.meta.dirname, '../../../src/model/malloc-tunables.ts');
  const js = `
const { tuneMalloc } = await import(${JSON.stringify(mod)});
const { readFileSync } = await import('node:fs');
const MIB12 = 12 * 1024 * 1024;
const anon = (l) => / rw-p 00000000 00:00 0\\s*$/.test(l);
const maps = () => new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(anon).map((l) => {
  const [a, b] = l.split(' ')[0].split('-').map((h) => Number.parseInt(h, 16));
  return b - a >= MIB12 && b - a <= MIB12 + 65536 ? l.split(' ')[0] : '';
}).filter(Boolean));
const outcome = tuneMalloc();
const before = maps();
const buf = new Float32Array(new ArrayBuffer(12 * 1024 * 1024)).fill(1);
const after = [...maps()].filter((m) => !before.has(m));
if (buf[7] !== 1) throw new Error("not written");
process.stdout.write(JSON.stringify({ outcome, ownMapping: after.length > 0 }));`;
  const { GLIBC_TUNABLES: _, LIONCTR_MALLOC_TUNE: __, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', js], {
    env: { ...rest, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout);
}

const why = !linux ? 'not Linux' : !built ? `${addon} is not built (npm run native:build)` : '';
describe.skipIf(why !== '' && process.env.CI !== 'true')(`the addon's effect${why ? ` (skipped: ${why})` : ''}`, () => {
  it('untuned, a 12 MiB block gets a fresh mapping; tuned, it comes from the heap', () => {
    expect(built, `${addon} must be built (npm run native:build) under CI=true`).toBe(true);
    expect(allocate({ LIONCTR_MALLOC_TUNE: 'off' })).toEqual({ outcome: 'left', ownMapping: true });
    expect(allocate({})).toEqual({ outcome: 'tuned', ownMapping: false });
  });
});
