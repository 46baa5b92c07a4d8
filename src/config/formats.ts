/**
 * The custom convict formats of the configuration (registered with convict when this module
 * is loaded), the `oneOf` enum helper, and `ConfigValues`, the type of a resolved section.
 * A format's validate throws an Error whose message convict prefixes with the key
 * (`train.batchSize: must be an integer >= 1`). Text values of number, boolean and string keys
 * are read strictly before they reach convict (src/config/read-value.ts), so a coerce here only
 * turns the text of a list or object key (env var, `--set`) into its value (JSON, or a
 * comma-separated list); the number formats' coerce is kept for direct convict users.
 */
import convict from 'convict';

/** A custom format: `validate` throws saying what the value must be; `coerce` parses strings. */
export interface ConfigFormat {
  validate: (v: unknown) => void;
  coerce: (v: unknown) => unknown;
}

/** A --set / env string parsed as JSON when it is JSON, else kept, so that validate names the key. */
export function parseJsonOrKeep(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A comma-separated list (`h1:9092, h2:9092`) or a JSON array as a list; other values as they are. */
function parseList(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return v.trim().startsWith('[')
    ? parseJsonOrKeep(v)
    : v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks one slot's settings of optim.tables; throws naming `<slot>.<setting>`. */
function validateTableOverride(slot: string, o: unknown): void {
  if (o === null || typeof o !== 'object') throw new Error(`${slot}: must be an object`);
  for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
    if (k === 'mode') {
      const ok = ['lazy', 'decayed', 'exact'].includes(x as string);
      if (!ok) throw new Error(`${slot}.mode must be lazy, decayed or exact`);
    } else if (['lr', 'weightDecay'].includes(k)) {
      if (typeof x !== 'number' || !(x >= 0)) throw new Error(`${slot}.${k} must be a number >= 0`);
    } else if (['beta1', 'beta2'].includes(k)) {
      if (typeof x !== 'number' || !(x >= 0 && x < 1)) throw new Error(`${slot}.${k} must be in [0, 1)`);
    } else throw new Error(`${slot}.${k} is not a setting (lr, beta1, beta2, weightDecay, mode)`);
  }
}

/** Every custom format by name, as the sections' `format` fields name them. */
export const FORMATS = {
  /** A finite number >= 0 (learning rates, seconds, weight decay). */
  'nonneg-number': {
    validate: (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error('must be a finite number >= 0');
    },
    coerce: (v) => Number(v),
  },
  /** A number in [0, 1) (Lion betas, schedule floor). */
  'unit-interval': {
    validate: (v) => {
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error('must be a number in [0, 1)');
    },
    coerce: (v) => Number(v),
  },
  /** An integer >= 1 (batch size, counts). */
  'positive-int': {
    validate: (v) => {
      if (!Number.isInteger(v) || (v as number) < 1) throw new Error('must be an integer >= 1');
    },
    coerce: (v) => Number(v),
  },
  /** A list of integers >= 1 (model.hidden), JSON from env/--set. */
  'int-list': {
    validate: (v) => {
      if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 1)) {
        throw new Error('must be a list of integers >= 1, e.g. [256,128]');
      }
    },
    coerce: parseJsonOrKeep,
  },
  /** {slot: D}, D an integer in 1..1024 (schema.dims). */
  'slot-dims': {
    validate: (v) => {
      if (!isObject(v)) throw new Error('must be an object {slot: D}');
      for (const [slot, d] of Object.entries(v)) {
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1024) {
          throw new Error(`${slot}: must be an integer in 1..1024, got ${JSON.stringify(d)}`);
        }
      }
    },
    coerce: parseJsonOrKeep,
  },
  /** A list of non-empty strings: a JSON array or comma-separated (LIONCTR_KAFKA_BROKERS=h1:9092,h2:9092). */
  'string-list': {
    validate: (v) => {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) {
        throw new Error(
          'must be a list of non-empty strings: a JSON array or a comma-separated list, ' +
            'e.g. host1:9092,host2:9092',
        );
      }
    },
    coerce: parseList,
  },
  /** {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}} (optim.tables). */
  'table-overrides': {
    validate: (v) => {
      if (!isObject(v)) throw new Error('must be an object {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}');
      for (const [slot, o] of Object.entries(v)) validateTableOverride(slot, o);
    },
    coerce: parseJsonOrKeep,
  },
} satisfies Record<string, ConfigFormat>;

for (const [name, f] of Object.entries(FORMATS)) convict.addFormat({ name, ...f });

/**
 * An enum key: `format` lists the allowed values, `default` is typed as their union, so the
 * resolved config has e.g. `'criteo' | 'csv' | 'jsonl'` rather than `string`.
 */
export function oneOf<const V extends readonly string[]>(
  values: V,
  def: V[number],
): { format: V[number][]; default: V[number] } {
  return { format: [...values], default: def };
}

/** The resolved values of a schema (section): each leaf (a key with a default) has its default's type. */
export type ConfigValues<S> = { [K in keyof S]: S[K] extends { default: infer D } ? D : ConfigValues<S[K]> };
