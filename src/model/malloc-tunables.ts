/**
 * glibc's malloc for a trainer on the native backend (README "Read-backs and page faults"):
 * tfjs-node copies every read-back into a new ArrayBuffer, and glibc gives a block over its
 * mmap threshold a fresh mapping each time, whose pages are then faulted in one by one. The
 * settings below (blocks up to 32 MiB from the heap, freed memory kept up to 256 MiB) must be in
 * the environment when the process starts: the dynamic loader reads GLIBC_TUNABLES then only.
 * @module
 */

/** GLIBC_TUNABLES for a trainer on the native backend. */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456';

/**
 * The start-up hint of a trainer on `backend` when glibc's malloc runs untuned (Linux, no
 * GLIBC_TUNABLES in the environment), or null: glibc reads GLIBC_TUNABLES only when a process
 * starts, so lionctr cannot set it for itself. Without it each large read-back of a step (the
 * [4096, 637] tower-input gradient, 10 MB) lands in fresh pages faulted in one by one: TrainStep.run
 * (ids, 1e5 rows, batch 4096) median 1.33x faster with it, 1.03-1.84x per pair (bench/malloc-readback.ts).
 */
export function mallocHint(backend: string, env = process.env, platform = process.platform): string | null {
  if (backend !== 'tensorflow' || platform !== 'linux' || env.GLIBC_TUNABLES !== undefined) return null;
  return (
    `GLIBC_TUNABLES is unset: large read-backs fault in fresh pages each step; starting lionctr with ` +
    `GLIBC_TUNABLES=${MALLOC_TUNABLES} made the native step ~1.3x faster on a 2-core VM (README "Read-backs and page faults")`
  );
}
