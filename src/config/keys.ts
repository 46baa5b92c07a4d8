/**
 * The keys of a convict schema and their environment variables, named mechanically from the
 * key's path: `LIONCTR_` + the path in upper snake case (`train.batchSize` ->
 * `LIONCTR_TRAIN_BATCH_SIZE`, `run.restartBackoffSeconds.min` ->
 * `LIONCTR_RUN_RESTART_BACKOFF_SECONDS_MIN`). A leaf's own `env` field, where it names
 * another variable, is a former name: the loader refuses it, naming the new one.
 */
import { LionctrError } from '../errors.ts';

/** A leaf of a schema: a key with a default (and doc, format, maybe a former `env` name). */
export interface SchemaLeaf {
  default: unknown;
  format?: unknown;
  env?: string;
  doc?: string;
}

/** One key of a schema: its dotted path, its leaf, its env var and its former env var if any. */
export interface SchemaKey {
  key: string;
  leaf: SchemaLeaf;
  env: string;
  formerEnv?: string;
}

/** True when a schema node is a leaf (a key with a default) rather than a section. */
export const isLeaf = (node: unknown): node is SchemaLeaf =>
  node !== null && typeof node === 'object' && 'default' in node;

/**
 * The env var of a key: `LIONCTR_` + its path in upper snake case, a `_` before each capital
 * (serve.keepVersions: LIONCTR_SERVE_KEEP_VERSIONS; optim.dense.beta1: LIONCTR_OPTIM_DENSE_BETA1).
 */
export function envNameOf(key: string): string {
  const snake = key
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
    .join('_');
  return `LIONCTR_${snake.toUpperCase()}`;
}

/**
 * Every key of `schema` (depth first, in declaration order) with its env var.
 * @throws LionctrError LIONCTR_INTERNAL when two keys map to one env var name.
 */
export function schemaKeys(schema: object): SchemaKey[] {
  const out: SchemaKey[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      if (isLeaf(v)) {
        const key = prefix + k,
          env = envNameOf(key);
        out.push({ key, leaf: v, env, ...(v.env && v.env !== env ? { formerEnv: v.env } : {}) });
      } else if (v !== null && typeof v === 'object') walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(schema as Record<string, unknown>, '');
  const seen = new Map<string, string>();
  for (const { key, env } of out) {
    const other = seen.get(env);
    if (other) throw new LionctrError('LIONCTR_INTERNAL', `config keys ${other} and ${key} share env var ${env}`);
    seen.set(env, key);
  }
  return out;
}

/** The node of `schema` at dotted `key`: a leaf, a section, or undefined when there is none. */
export function nodeAt(schema: object, key: string): unknown {
  let node: unknown = schema;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || isLeaf(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A copy of `schema` without the leaves' `env` fields, so that convict reads no env var itself. */
export function withoutEnv<T extends object>(schema: T): T {
  const copy = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    if (isLeaf(node)) {
      const { env: _env, ...rest } = node;
      return rest;
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, copy(v)]));
  };
  return copy(schema) as T;
}
