/**
 * Loads a configuration with convict, in this order (later wins): the schema's defaults,
 * `config/default.json`, the given config files in order, environment variables (one per key,
 * named from its path: src/config/keys.ts), `--set key=value` overrides, then the command's own
 * flags (`--export-dir`, `--port`, ...); then validates strictly (an unknown key is an error).
 * Every value is read by the same strict rules whatever its source (src/config/read-value.ts).
 * Every error is a LionctrError LIONCTR_BAD_CONFIG naming the key and where its value came from
 * (the file, `env NAME`, `--set`, the flag).
 */
import convict from 'convict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LionctrError } from '../errors.ts';
import './formats.ts';
import { isLeaf, nodeAt, schemaKeys, withoutEnv, type SchemaLeaf } from './keys.ts';
import { readValue } from './read-value.ts';

/** The shipped defaults file, `config/default.json` at the package root. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/** What a configuration is loaded from, lowest precedence first (after the schema's defaults). */
export interface ConfigInputs {
  /** The shipped defaults (config/default.json), skipped when absent. */
  defaultsFile?: string;
  /** Config files (JSON), applied in order. */
  files?: string[];
  /** The environment (default process.env); only the keys' env vars are read. */
  env?: Record<string, string | undefined>;
  /** `key=value` strings of --set. */
  sets?: string[];
  /** `key=value` overrides of a command's dedicated flags, each with the flag's name for errors. */
  flags?: { set: string; flag: string }[];
}

/** A loaded configuration, and where each key that is not at its default came from. */
export interface LoadedConfig<T> {
  config: T;
  /** key -> its source: a config file's path, `env NAME`, `--set` or the flag; absent: a default. */
  origins: Map<string, string>;
}

/** A wrong config: LIONCTR_BAD_CONFIG with `where`. */
const badConfig = (msg: string, where?: string) => new LionctrError('LIONCTR_BAD_CONFIG', msg, { where });

/** Sets one key from `from`, after reading the value strictly; records the origin unless null. */
function setKey<T>(
  c: convict.Config<T>,
  origins: Map<string, string>,
  key: string,
  leaf: SchemaLeaf,
  raw: unknown,
  from: string,
  record: boolean,
): void {
  const v = readValue(key, leaf, raw, from);
  try {
    c.set(key as never, v as never);
  } catch (e) {
    throw badConfig(`${key}: ${(e as Error).message}`, from);
  }
  if (record) origins.set(key, from);
  else origins.delete(key);
}

/** The [key, leaf, value] settings of a config file's object, section by section. @throws on an unknown key. */
function fileSettings(schema: object, obj: unknown, prefix: string, f: string): [string, SchemaLeaf, unknown][] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw badConfig(`${prefix ? `${prefix.slice(0, -1)}: ` : ''}must be an object of config keys`, f);
  }
  return Object.entries(obj).flatMap(([k, v]): [string, SchemaLeaf, unknown][] => {
    const key = prefix + k,
      node = nodeAt(schema, key);
    if (node === undefined || node === null || typeof node !== 'object') {
      throw badConfig(`unknown config key "${key}"`, f);
    }
    return isLeaf(node) ? [[key, node, v]] : fileSettings(schema, v, `${key}.`, f);
  });
}

/** Applies one JSON config file. @throws LionctrError LIONCTR_BAD_CONFIG naming the key and the file. */
function loadFile<T>(
  c: convict.Config<T>,
  schema: object,
  origins: Map<string, string>,
  f: string,
  isDefaults: boolean,
): void {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw badConfig(`cannot read config file: ${(e as Error).message}`, f);
  }
  for (const [key, leaf, v] of fileSettings(schema, obj, '', f)) setKey(c, origins, key, leaf, v, f, !isDefaults);
}

/** Applies one `key=value` override of --set or a flag (`from`). */
function applySet<T>(c: convict.Config<T>, schema: object, origins: Map<string, string>, s: string, from: string) {
  const eq = s.indexOf('=');
  if (eq < 1) throw badConfig(`${from} expects key=value, got "${s}"`, from);
  const key = s.slice(0, eq),
    node = nodeAt(schema, key);
  if (!isLeaf(node)) {
    const what = node ? `"${key}" is a section: set one of its keys` : `unknown config key "${key}"`;
    throw badConfig(what, from === '--set' ? key : from);
  }
  setKey(c, origins, key, node, s.slice(eq + 1), from, true);
}

/**
 * Validates `c` strictly; each failing key's line says where its value came from.
 * @throws LionctrError LIONCTR_BAD_CONFIG `invalid configuration: <key>: <what> (from <source>)`.
 */
function validate<T>(c: convict.Config<T>, origins: Map<string, string>): void {
  try {
    c.validate({ allowed: 'strict' });
  } catch (e) {
    const lines = (e as Error).message.split('\n').map((line) => {
      const from = origins.get(line.slice(0, line.indexOf(': ')));
      return from ? `${line} (from ${from})` : line;
    });
    throw badConfig(`invalid configuration: ${lines.join('\n')}`);
  }
}

/**
 * Loads a configuration of `schema`: defaults, then `defaultsFile` when it exists, then
 * `files` in order, then env vars, then `sets`, then `flags`, then strict validation.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key that is wrong and its source (or the
 *   file); also for a key's former env var name (it names the new one).
 */
export function loadConfigLayers<T>(schema: convict.Schema<T>, inputs: ConfigInputs = {}): LoadedConfig<T> {
  const { defaultsFile = DEFAULT_CONFIG_FILE, files = [], env = process.env, sets = [], flags = [] } = inputs;
  const keys = schemaKeys(schema);
  const c = convict(withoutEnv(schema));
  const origins = new Map<string, string>();
  if (existsSync(defaultsFile)) loadFile(c, schema, origins, defaultsFile, true);
  for (const f of files) loadFile(c, schema, origins, f, false);
  for (const { key, leaf, env: name, formerEnv } of keys) {
    if (formerEnv && env[formerEnv] !== undefined) {
      throw badConfig(`${formerEnv} was renamed ${name} (config key ${key})`, `env ${formerEnv}`);
    }
    const v = env[name];
    if (v !== undefined) setKey(c, origins, key, leaf, v, `env ${name}`, true);
  }
  for (const s of sets) applySet(c, schema, origins, s, '--set');
  for (const { set, flag } of flags) applySet(c, schema, origins, set, flag);
  validate(c, origins);
  return { config: c.getProperties(), origins };
}

/**
 * Loads a configuration of `schema` (loadConfigLayers without flags, env from process.env).
 * @param files config files (JSON), applied in order.
 * @param sets  `key=value` strings of --set.
 * @param defaultsFile the shipped defaults (config/default.json), skipped when absent.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key that is wrong (or the file).
 */
export function loadConfigOf<T>(
  schema: convict.Schema<T>,
  files: string[] = [],
  sets: string[] = [],
  defaultsFile = DEFAULT_CONFIG_FILE,
): T {
  return loadConfigLayers(schema, { files, sets, defaultsFile }).config;
}
