/**
 * Decoder of JSON lines: `{"label":0|1,"ts":<time>,"features":{slot: value, ...}}`; the time key
 * and its format (ms by default, or s, or a pattern) are `schema.time` (src/ingest/time-format.ts),
 * an optional sample-weight key is `schema.weight` (top level, beside `label`).
 * Numeric slot values: numbers or numeric strings (null/"" = missing). Categorical values:
 * strings or finite numbers (numbers become their decimal string; null = missing). A features
 * key that is no slot and not in `schema.ignore` follows `schema.unknownSlots`
 * (src/features/unknown-slots.ts), and so does a top-level key other than label, the time key,
 * the weight key and `features` (a flat line's slots): `reject` makes the row bad
 * (`unknown_slot`), `ignore` drops it (`onUnknownSlot` hears of each name once, e.g. to log
 * it); `ts` is optional (missing/null -> eventTimeMs null).
 */
import { LABEL_COLUMN, TS_INPUT_FIELD } from '../features/columns.ts';
import type { UnknownSlotPolicy } from '../features/unknown-slots.ts';
import type { DecodedRow, SlotSchema } from './source.ts';
import { badInput, parseNumericCell, parseWeightValue } from './decode-util.ts';
import { timeParser } from './time-format.ts';

/** Options of createJsonlDecoder (each defaults to the config's default). */
export interface JsonlOptions {
  /** Hears each ignored unknown slot's name once (unknownSlots `ignore`), with where it was first seen. */
  onUnknownSlot?: (slot: string, where: string) => void;
  /** The time key and its format (schema.time); default `ts` in ms. */
  time?: { column: string; format: string };
  /** schema.unknownSlots; default `reject`. */
  unknownSlots?: UnknownSlotPolicy;
  /** Keys dropped silently under either policy (schema.ignore). */
  ignore?: readonly string[];
  /** The sample-weight key (schema.weight); '' or absent = none (weight 1). */
  weight?: string;
}

/** Decodes one JSON line into a row; see createJsonlDecoder. */
export type LineDecoder = (line: string, where: string) => DecodedRow;

/**
 * Returns a decoder of JSON lines for `schema` (slot lookups precomputed). The decoder
 * throws LIONCTR_BAD_INPUT with reason `bad_json` (not JSON / not an object),
 * `missing_label`, `bad_label` (not the number 0 or 1; true/false rejected), `bad_number`
 * (a numeric slot or ts that is a non-numeric string or non-finite), `bad_timestamp` (ts
 * not in `time.format` or not between 2001 and 2500), `unknown_slot` (under `reject`, naming
 * the key), `bad_weight` (parseWeightValue), or `wrong_type`
 * (features not an object, ts or a slot value of the wrong JSON type).
 */
export function createJsonlDecoder(schema: SlotSchema, opts: JsonlOptions = {}): LineDecoder {
  const time = opts.time ?? { column: TS_INPUT_FIELD, format: 'ms' };
  const { onUnknownSlot } = opts;
  const reject = (opts.unknownSlots ?? 'reject') === 'reject';
  const ignored = new Set(opts.ignore ?? []);
  const weightKey = opts.weight ?? '';
  const parseTime = timeParser(time.column, time.format);
  const unknown = new Set<string>();
  const numIndex = new Map<string, number>();
  for (const [i, s] of schema.numeric.entries()) numIndex.set(s, i);
  const catIndex = new Map<string, number>();
  for (const [i, s] of schema.categorical.entries()) catIndex.set(s, i);
  const nNum = schema.numeric.length;
  const nCat = schema.categorical.length;

  return (line: string, where: string): DecodedRow => {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw badInput('bad_json', `not valid JSON: ${(e as Error).message}`, where);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
      throw badInput('bad_json', 'a line must be a JSON object', where);
    const o = obj as Record<string, unknown>;

    const lab = o[LABEL_COLUMN];
    if (lab === undefined || lab === null) throw badInput('missing_label', 'label is missing', where);
    if (lab !== 0 && lab !== 1) throw badInput('bad_label', `label must be 0 or 1, got ${JSON.stringify(lab)}`, where);

    let eventTimeMs: number | null = null;
    const ts = o[time.column];
    if (ts !== undefined && ts !== null) {
      if (typeof ts !== 'number' && typeof ts !== 'string')
        throw badInput(
          'wrong_type',
          `${time.column} must be a number or string (${time.format}), got ${typeof ts}`,
          where,
        );
      eventTimeMs = parseTime(ts, where);
    }

    for (const key in o) {
      if (key === LABEL_COLUMN || key === time.column || key === 'features' || key === weightKey) continue;
      if (ignored.has(key)) continue;
      if (reject)
        throw badInput(
          'unknown_slot',
          `top-level key "${key}": slots go under "features" ({"label":0|1,"features":{"${key}": ...}}); ` +
            'list it in schema.ignore or set schema.unknownSlots=ignore to drop it',
          `${where} ${key}`,
        );
      if (onUnknownSlot && !unknown.has(key)) {
        unknown.add(key);
        onUnknownSlot(key, where);
      }
    }

    const numeric = new Array<number | null>(nNum).fill(null);
    const categorical = new Array<string | null>(nCat).fill(null);
    const feats = o.features;
    if (feats !== undefined && feats !== null) {
      if (typeof feats !== 'object' || Array.isArray(feats))
        throw badInput('wrong_type', 'features must be an object', where);
      for (const key in feats as Record<string, unknown>) {
        const v = (feats as Record<string, unknown>)[key];
        const ni = numIndex.get(key);
        if (ni !== undefined) {
          numeric[ni] = numericValue(v, key, where);
          continue;
        }
        const ci = catIndex.get(key);
        if (ci !== undefined) categorical[ci] = categoricalValue(v, key, where);
        else if (ignored.has(key)) continue;
        else if (reject)
          throw badInput(
            'unknown_slot',
            `features.${key} is not a slot of the schema (schema.unknownSlots=reject; list it in schema.ignore ` +
              'or set schema.unknownSlots=ignore to drop it)',
            `${where} features.${key}`,
          );
        else if (onUnknownSlot && !unknown.has(key)) {
          unknown.add(key);
          onUnknownSlot(key, where);
        }
      }
    }
    const row: DecodedRow = { label: lab, eventTimeMs, numeric, categorical };
    if (weightKey) {
      const w = parseWeightValue(o[weightKey], weightKey, `${where} ${weightKey}`);
      if (w !== undefined) row.weight = w;
    }
    return row;
  };
}

function numericValue(v: unknown, slot: string, where: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    // JSON.parse turns 1e400 into Infinity; serving rejects it too
    if (!Number.isFinite(v))
      throw badInput('bad_number', `${slot}: numeric slot value must be finite, got ${v}`, `${where} features.${slot}`);
    return v;
  }
  if (typeof v === 'string') return parseNumericCell(v, slot, where);
  throw badInput(
    'wrong_type',
    `${slot}: numeric slot value must be a number, got ${Array.isArray(v) ? 'array' : typeof v}`,
    `${where} features.${slot}`,
  );
}

function categoricalValue(v: unknown, slot: string, where: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw badInput(
    'wrong_type',
    `${slot}: categorical slot value must be a string or number, got ${Array.isArray(v) ? 'array' : typeof v}`,
    `${where} features.${slot}`,
  );
}
