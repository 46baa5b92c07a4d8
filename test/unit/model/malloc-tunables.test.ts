/**
 * The start-up hint about glibc's malloc (src/model/malloc-tunables.ts): given to a native
 * trainer on Linux whose environment has no GLIBC_TUNABLES, with the value to set; not on another
 * backend or platform, nor when GLIBC_TUNABLES is set at all (an empty value is the opt-out).
 */
import { describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES, mallocHint } from '../../../src/model/malloc-tunables.ts';

describe('mallocHint', () => {
  it('names the setting for a native trainer on Linux without GLIBC_TUNABLES, and only then', () => {
    expect(mallocHint('tensorflow', {}, 'linux')).toContain(`GLIBC_TUNABLES=${MALLOC_TUNABLES}`);
    expect(mallocHint('wasm', {}, 'linux')).toBeNull();
    expect(mallocHint('tensorflow', {}, 'darwin')).toBeNull();
    expect(mallocHint('tensorflow', { GLIBC_TUNABLES: '' }, 'linux')).toBeNull();
    expect(mallocHint('tensorflow', { GLIBC_TUNABLES: MALLOC_TUNABLES }, 'linux')).toBeNull();
  });

  it('sets the mmap threshold to its 32 MiB maximum and keeps freed memory up to 256 MiB', () => {
    expect(MALLOC_TUNABLES.split(':').sort()).toEqual([
      'glibc.malloc.mmap_threshold=33554432',
      'glibc.malloc.trim_threshold=268435456',
    ]);
  });
});
