/**
 * Loads a configuration with convict, in this order (later wins): the schema's defaults,
 * `config/default.json`, the given config files in order, environment variables, then
 * `--set key=value` overrides; then validates strictly (an unknown key is an error). Every
 * error is a LionctrError LIONCTR_BAD_CONFIG naming the key (or the file) that is wrong.
 */
import convict from 'convict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LionctrError } from '../errors.ts';
import './formats.ts';

/** The shipped defaults file, `config/default.json` at the package root. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/**
 * Moves the object values of `obj` that sit at schema leaves (keys with a default) into `out`
 * as [dotted key, value].
 */
function takeObjectLeaves(
  schema: object,
  obj: Record<string, unknown>,
  prefix: string,
  out: [string, unknown][],
): void {
  for (const [k, v] of Object.entries(obj)) {
    const node = (schema as Record<string, unknown>)[k];
    if (node === null || typeof node !== 'object' || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    if ('default' in node) {
      out.push([prefix + k, v]);
      delete obj[k];
    } else takeObjectLeaves(node, v as Record<string, unknown>, `${prefix}${k}.`, out);
  }
}

/** Applies one JSON config file to `c`. @throws LionctrError LIONCTR_BAD_CONFIG naming the file. */
function loadFile<T>(c: convict.Config<T>, schema: convict.Schema<T>, f: string): void {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw new LionctrError('LIONCTR_BAD_CONFIG', `cannot read config file: ${(e as Error).message}`, { where: f });
  }
  try {
    // convict descends into object values of a file even where the schema has a leaf
    // (optim.tables, schema.dims) and fails: set those whole, after the rest
    const leaves: [string, unknown][] = [];
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      takeObjectLeaves(schema, obj as Record<string, unknown>, '', leaves);
    }
    c.load(obj as object);
    for (const [key, v] of leaves) c.set(key as never, v as never);
  } catch (e) {
    throw new LionctrError('LIONCTR_BAD_CONFIG', (e as Error).message, { where: f });
  }
}

/** Applies one `key=value` override; the value is parsed as JSON when it parses, else a string. */
function applySet<T>(c: convict.Config<T>, s: string): void {
  const eq = s.indexOf('=');
  if (eq < 1) throw new LionctrError('LIONCTR_BAD_CONFIG', `--set expects key=value, got "${s}"`, { where: '--set' });
  const key = s.slice(0, eq),
    raw = s.slice(eq + 1);
  if (!c.has(key as never)) throw new LionctrError('LIONCTR_BAD_CONFIG', `unknown config key "${key}"`, { where: key });
  let v: unknown = raw;
  try {
    v = JSON.parse(raw);
  } catch {
    /* plain string */
  }
  c.set(key as never, v as never);
}

/**
 * Loads a configuration of `schema`: defaults, then `defaultsFile` when it exists, then
 * `files` in order, then env vars, then `sets`, then strict validation.
 * @param files config files (JSON), applied in order.
 * @param sets  `key=value` strings; value parsed as JSON when it parses, else a string.
 * @param defaultsFile the shipped defaults (config/default.json), skipped when absent.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key that is wrong (or the file).
 */
export function loadConfigOf<T>(
  schema: convict.Schema<T>,
  files: string[] = [],
  sets: string[] = [],
  defaultsFile = DEFAULT_CONFIG_FILE,
): T {
  const c = convict(schema);
  for (const f of existsSync(defaultsFile) ? [defaultsFile, ...files] : files) loadFile(c, schema, f);
  for (const s of sets) applySet(c, s);
  try {
    c.validate({ allowed: 'strict' });
  } catch (e) {
    throw new LionctrError('LIONCTR_BAD_CONFIG', `invalid configuration: ${(e as Error).message}`);
  }
  return c.getProperties();
}
