/**
 * The featurization of one serving instance, stated as data for export manifests (DESIGN.md
 * "Exports and serving": someone holding only the export directory reproduces a prediction).
 * Built from the constants the Featurizer itself uses (MISSING_TOKEN, SLOT_SEED_SEED of
 * hash.ts, NUMERIC_BUCKET of numeric.ts) and from the schema; the prose parts describe
 * featurizer.ts `fromInstances` and are checked by test/unit/model/featurization-repro.test.ts,
 * which re-derives predictions from this description alone.
 */
import { MISSING_TOKEN, SLOT_SEED_SEED, slotSeed } from './hash.ts';
import { NUMERIC_BUCKET } from './numeric.ts';
import { embeddingSlots, type FeatureSchema } from './schema.ts';
import type { UnknownSlotPolicy } from './unknown-slots.ts';

/** Version of the description's layout; bumped when a field changes meaning. */
export const FEATURIZATION_VERSION = 'lionctr-featurization/1';

/** One embedding slot, in model order (categorical slots, then numeric slots). */
export interface SlotSpec {
  name: string;
  type: 'categorical' | 'numeric';
  /** XXH64(utf8(name), slot_seed_seed) as a decimal string (uint64 does not fit a JSON number). */
  seed: string;
}

/** The model-independent part of the manifest's `featurization`. */
export interface FeaturizationSpec {
  version: typeof FEATURIZATION_VERSION;
  instance: string;
  /** A key of an instance that is not a slot: `reject` (the request is refused) or `ignore` (dropped). */
  unknown_slots: UnknownSlotPolicy;
  number_to_string: string;
  hash: {
    function: 'xxh64';
    token_encoding: string;
    slot_seed: string;
    slot_seed_seed: number;
    id: string;
    missing_token: string;
  };
  categorical: { accepts: string; token: string; missing: string };
  numeric: {
    accepts: string;
    missing: string;
    token: {
      rule: string;
      threshold: number;
      log_prefix: string;
      raw_prefix: string;
      log: string;
    };
    dense: { formula: string; missing: number; dtype: 'float32' };
  };
  slots: SlotSpec[];
}

/**
 * The featurization of `schema`'s instances as plain JSON data (no functions, no BigInts), for a
 * model whose unknown-slot policy is `unknownSlots` (schema.unknownSlots; default reject).
 * Pure; throws nothing.
 */
export function describeFeaturization(
  schema: FeatureSchema,
  unknownSlots: UnknownSlotPolicy = 'reject',
): FeaturizationSpec {
  const numeric = new Set(schema.numeric);
  const { threshold, logPrefix, rawPrefix } = NUMERIC_BUCKET;
  return {
    version: FEATURIZATION_VERSION,
    instance:
      'a JSON object {slot: value}; a slot that is absent, null or "" is missing; a key that is not a slot ' +
      'follows unknown_slots (reject: an error; ignore: dropped); a value of another type than listed under ' +
      'categorical/numeric "accepts" is an error. "accepts" is what the featurization takes (training reads ' +
      "text formats); lionctr serve's REST API is stricter, as TF Serving's typed inputs (GET .../metadata): " +
      'a categorical slot takes strings only (DT_STRING; {"b64": "<base64>"} is the string its bytes encode as ' +
      'UTF-8, other bytes refused) and a numeric slot JSON numbers only (DT_FLOAT: ' +
      'an integer literal beyond 2^24 - 1 or a number beyond float32 range is refused, as TF Serving does)',
    unknown_slots: unknownSlots,
    number_to_string:
      'ECMAScript Number::toString(x), as JavaScript String(x): the shortest decimal that rounds to x; ' +
      'no exponent when 1e-6 <= |x| < 1e21 (1 -> "1", 1.0 -> "1", 0.5 -> "0.5", 1e-7 -> "1e-7", ' +
      '1e21 -> "1e+21", 123e-20 -> "1.23e-18", -0 -> "0")',
    hash: {
      function: 'xxh64',
      token_encoding: 'utf8 of the token (a lone UTF-16 surrogate becomes U+FFFD, as WHATWG TextEncoder)',
      slot_seed: 'xxh64(utf8(slot name), seed = slot_seed_seed); listed per slot in "slots"',
      slot_seed_seed: Number(SLOT_SEED_SEED),
      id: 'xxh64(utf8(token), seed = slot_seed) as an unsigned 64-bit integer: the "id" column of the slot\'s table',
      missing_token: MISSING_TOKEN,
    },
    categorical: {
      accepts: 'a string, or a finite JSON number',
      token: 'a string as it is; a number as number_to_string(number)',
      missing: 'hash.missing_token',
    },
    numeric: {
      accepts:
        'a finite JSON number, or a string that is not blank and whose ECMAScript Number(string) is finite ' +
        '(surrounding white space ignored; decimal with optional sign, fraction and exponent only: ' +
        'no 0x/0o/0b, Infinity or NaN)',
      missing: 'token hash.missing_token, dense input dense.missing',
      token: {
        rule:
          'x > threshold: log_prefix + decimal integer floor(log(x)^2); ' +
          'otherwise raw_prefix + number_to_string(x)',
        threshold,
        log_prefix: logPrefix,
        raw_prefix: rawPrefix,
        log: 'natural logarithm in IEEE float64; the square and floor in float64',
      },
      dense: { formula: 'ln(1 + max(x, 0)) in float64, then rounded to float32', missing: 0, dtype: 'float32' },
    },
    slots: embeddingSlots(schema).map((name) => ({
      name,
      type: numeric.has(name) ? 'numeric' : 'categorical',
      seed: slotSeed(name).toString(),
    })),
  };
}
