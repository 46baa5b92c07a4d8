import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Root of ../shared (design, data, golden files), beside the repository. */
export const SHARED = resolve(process.cwd(), '../shared');
export const CRITEO_TSV = resolve(SHARED, 'data/criteo-10k/criteo_10k.tsv');
export const LION_GOLDEN = resolve(SHARED, 'golden/lion_optax_golden.json');

/** True when `path` exists; otherwise warns once that the tests needing it are skipped. */
export function haveShared(path: string): boolean {
  if (existsSync(path)) return true;
  console.warn(`SKIPPED: ${path} is absent (../shared is not beside this checkout); tests that need it are skipped`);
  return false;
}
