/**
 * @module Refuses environment variables that look like lionctr config but are none: a misspelt
 * LIONCTR_* name (LIONCTR_SERVE_WORKERZ for serve.workers) would otherwise be ignored while the
 * same typo in a config file or `--set` stops start-up.
 */
import { LionctrError } from '../errors.ts';
import { schemaKeys } from './keys.ts';

const PREFIX = 'LIONCTR_';

/**
 * The process-level variables that are not config keys (README "Environment"): the tfjs backend,
 * the native library cache, wasm threads, malloc tuning (LIONCTR_MALLOC_TUNE=off), and the test and bench tools' own.
 */
const PROCESS_VARS = new Set([
  'BACKEND',
  'NATIVE_CACHE',
  'WASM_THREADS',
  'MALLOC_TUNE',
  'PYTHON',
  'CHROMIUM',
  'FAULTS_SCALE',
]);
/** Prefixes of the test harness's variables (test/helpers). */
const PROCESS_PREFIXES = ['TEST_'];

/** Edit distance of a and b (Levenshtein), for a suggestion. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Throws for the first `LIONCTR_*` variable of `env` that is neither a key's env var of `schema`
 * (nor its former name, which the loader reports as renamed) nor a process-level variable.
 * @throws LionctrError LIONCTR_BAD_CONFIG `unknown environment variable NAME (did you mean ...?)`, where `env NAME`.
 */
export function refuseUnknownEnv(schema: object, env: Record<string, string | undefined>): void {
  const keys = schemaKeys(schema);
  const known = new Set(keys.flatMap((k) => (k.formerEnv ? [k.env, k.formerEnv] : [k.env])));
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX) || known.has(name) || env[name] === undefined) continue;
    const rest = name.slice(PREFIX.length);
    if (PROCESS_VARS.has(rest) || PROCESS_PREFIXES.some((p) => rest.startsWith(p))) continue;
    let best = '',
      bestD = Number.POSITIVE_INFINITY;
    for (const k of keys) {
      const d = distance(name, k.env);
      if (d < bestD) [best, bestD] = [`${k.env} (${k.key})`, d];
    }
    const hint = bestD <= 3 ? ` (did you mean ${best}?)` : '';
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `unknown environment variable ${name}: no config key reads it${hint}; ` +
        `config keys' variables are ${PREFIX} + the key in upper snake case`,
      { where: `env ${name}` },
    );
  }
}
