/**
 * The config file `lionctr tune` writes: every key of the tuning run's config that is not at
 * its default (from --config files, env, --set, flags), with the best trial's settings over
 * them, as JSON that `train --config` takes. The tuning run's input (source.kind, path, skip,
 * limit) is left out unless asked for: the config is for training on another file or range.
 */
import type { LionctrConfig } from '../../config/schema.ts';

/** Keys that say which rows the tuning run read: left out of the written config by default. */
export const SOURCE_KEYS = ['source.kind', 'source.path', 'source.skip', 'source.limit'];

/** The value at a dotted path of an object. */
function getPath(o: unknown, path: string): unknown {
  let v = o;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

/** Sets a dotted path of a nested object, making the objects on the way. */
function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = o;
  for (const part of parts.slice(0, -1)) {
    if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]] = value;
}

/**
 * The config to write: the non-default keys of `cfg` (`origins`, as the loader reports them)
 * and then `overrides` (`key=JSON`, the best trial's); SOURCE_KEYS left out unless `keepSource`.
 * @returns a nested object, keys in the order they were met.
 */
export function bestConfig(
  cfg: LionctrConfig,
  origins: ReadonlyMap<string, string>,
  overrides: readonly string[],
  keepSource = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of origins.keys()) {
    if (!keepSource && SOURCE_KEYS.includes(key)) continue;
    setPath(out, key, getPath(cfg, key));
  }
  for (const s of overrides) {
    const eq = s.indexOf('=');
    setPath(out, s.slice(0, eq), JSON.parse(s.slice(eq + 1)));
  }
  return out;
}
