/**
 * glibc's malloc for the tfjs backends (README "Read-backs and page faults"): tfjs-node copies
 * every read-back into a new ArrayBuffer and TensorFlow allocates every op's output afresh; glibc
 * gives a block over its mmap threshold (128 KiB at start) a fresh mapping each time, whose pages
 * are then faulted in one by one. On a 2-core VM a dataSync() of a [4096, 637] float32 tensor (the
 * tower-input gradient of a step, 10.4 MB) took 37-112 ms so, 1.2-1.5 ms with the thresholds below
 * (blocks up to 32 MiB from the heap, up to 64 MiB of free heap top kept).
 *
 * The thresholds are set in the running process by mallopt(3) through a small Node-API addon that
 * `lionctr native build` builds (src/model/native/malloc_tune.c, src/cli/native/malloc-addon.ts),
 * as soon as a backend is selected (wasm's read-backs copy out of its heap into fresh blocks too:
 * the same dataSync 31-43 ms untuned, 1.1-1.4 ms tuned). GLIBC_TUNABLES naming a `glibc.malloc.` tunable at
 * start, or LIONCTR_MALLOC_TUNE=off, leaves malloc as it is. @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** mmap threshold set on the native backend, bytes (glibc's largest: 32 MiB on 64-bit). */
export const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;
/** trim threshold set on the native backend, bytes: free heap top kept for the next step's blocks. */
export const TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024;
/** The same thresholds as GLIBC_TUNABLES, for a process started with them (benches, hosts without the addon). */
export const MALLOC_TUNABLES =
  `glibc.malloc.mmap_threshold=${MMAP_THRESHOLD_BYTES}:` + `glibc.malloc.trim_threshold=${TRIM_THRESHOLD_BYTES}`;

/** Where `lionctr native build` puts the addon: `<package root>/node_modules/.lionctr/lionctr_malloc.node`. */
export const mallocAddonPath = (root = fileURLToPath(new URL('../../', import.meta.url))): string =>
  join(root, 'node_modules', '.lionctr', 'lionctr_malloc.node');

/** What tuneMalloc did: `tuned`, `left` (the user's settings or not glibc/Linux), `missing` (no addon). */
export type MallocTuning = 'tuned' | 'left' | 'missing';

/**
 * Sets glibc malloc's mmap and trim thresholds (MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES) in
 * this process for the native backend, once (later calls return the first outcome). Never throws:
 * an addon that does not load counts as missing.
 * @param log one line saying what was done and why.
 * @param sayMissing whether a missing addon is logged (the native backend's case; on wasm, where
 *   the addon comes only with a native build, it is not).
 * @returns `tuned`; `left` off Linux, with LIONCTR_MALLOC_TUNE=off, or when GLIBC_TUNABLES sets a
 *   `glibc.malloc.` tunable (the user's choice stands), or when glibc refuses (not glibc: musl);
 *   `missing` when the addon is not built (run `npm run native:build`).
 */
export function tuneMalloc(
  log: (msg: string) => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
  addon = mallocAddonPath(),
  sayMissing = true,
): MallocTuning {
  if (done) return done;
  done = decideMallocTuning(log, env, addon, sayMissing);
  return done;
}
let done: MallocTuning | undefined;

/** tuneMalloc's work without the once-per-process guard (tests run it in child processes). */
export function decideMallocTuning(
  log: (msg: string) => void,
  env: NodeJS.ProcessEnv,
  addon: string,
  sayMissing = true,
): MallocTuning {
  if (process.platform !== 'linux') return 'left';
  if (env.LIONCTR_MALLOC_TUNE === 'off') {
    log('malloc: left as is (LIONCTR_MALLOC_TUNE=off)');
    return 'left';
  }
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.')) {
    log(`malloc: left to GLIBC_TUNABLES (${env.GLIBC_TUNABLES})`);
    return 'left';
  }
  let tune: ((mmap: number, trim: number) => boolean) | undefined;
  try {
    if (existsSync(addon)) tune = (createRequire(import.meta.url)(addon) as { tune: typeof tune }).tune;
  } catch (err) {
    log(`malloc: addon ${addon} does not load (${(err as Error).message.split('\n')[0]})`);
  }
  if (!tune) {
    if (!sayMissing) return 'missing';
    log(
      `malloc: not tuned, ${addon} is not built (npm run native:build builds it); large read-backs fault in fresh ` +
        `pages every step (~35 ms per 10 MB on a 2-core VM); or start lionctr with GLIBC_TUNABLES=${MALLOC_TUNABLES}`,
    );
    return 'missing';
  }
  if (!tune(MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES)) {
    log('malloc: not tuned (mallopt refused: not glibc)');
    return 'left';
  }
  log(
    `malloc: mmap threshold ${MMAP_THRESHOLD_BYTES >> 20} MiB, ` +
      `trim threshold ${TRIM_THRESHOLD_BYTES >> 20} MiB (mallopt)`,
  );
  return 'tuned';
}
