/**
 * The fast path of a predict body in its common form, `{"instances": [{"slot": value, ...}, ...]}`
 * with string, number or null values: the text is scanned once (no JSON.parse, no objects) and
 * featurized straight into a FeatureBatch. Anything else — another key (signature_name), escapes,
 * a nested value, true/false, an unknown slot, a value the slow path would refuse, no or too many
 * instances — is left to the slow path (json-body.ts, json-tensor.ts, Featurizer.fromInstances),
 * which gives TF Serving's answer and message. So the fast path only ever takes bodies the slow
 * path takes, and gives them the same features (test/unit/serve/json-fast.test.ts checks both on
 * the same bodies).
 *
 * Measured by bench/serve-speed.ts: JSON.parse and the checks of the slow path took 17% of the
 * server's CPU at 16 instances per request.
 */
import type { FeatureBatch } from '../features/feature-batch.ts';
import { type Featurizer, MAX_INSTANCES } from '../features/featurizer.ts';
import { FLOAT_MAX_INT } from './json-body.ts';
import { numberAt, numberEnd, stringEnd, ws } from './json-lexer.ts';
import { fnv1a, TextIds } from './text-ids.ts';

/** Value types of a scanned pair. */
const STRING = 0,
  NUMBER = 1,
  NULL = 2;

/**
 * Where the pieces of a scanned body are: pair p's key is text[pairs[4p], pairs[4p+1]), its value
 * text[pairs[4p+2], pairs[4p+3]) (a string's without its quotes) of type types[p]; instance b
 * holds pairs starts[b] .. starts[b+1]-1. Views of buffers reused by the next scan.
 */
export interface Scan {
  /** Instances. */
  n: number;
  starts: Int32Array;
  pairs: Int32Array;
  types: Uint8Array;
}

let taken = 0;

/** Bodies featurized by the fast path, in this process (tests, benches). */
export const fastPathBodies = (): number => taken;

let starts = new Int32Array(1024),
  pairs = new Int32Array(4 * 16384),
  types = new Uint8Array(16384);

function grow(pairCount: number, n: number): void {
  if (4 * pairCount + 4 > pairs.length) {
    const p = new Int32Array(pairs.length * 2);
    p.set(pairs);
    pairs = p;
    const ty = new Uint8Array(types.length * 2);
    ty.set(types);
    types = ty;
  }
  if (n + 2 > starts.length) {
    const s = new Int32Array(starts.length * 2);
    s.set(starts);
    starts = s;
  }
}

/**
 * Scans `text` as `{"instances": [{"key": value, ...}, ...]}` (JSON whitespace anywhere between
 * tokens; values strings without escapes, JSON numbers, null).
 * @returns where its pieces are, or undefined when the text is not of that form (the slow path's
 *   business), has no instances or more than MAX_INSTANCES. The result is valid until the next call.
 */
export function scanInstances(text: string | undefined): Scan | undefined {
  if (text === undefined) return undefined;
  let i = ws(text, 0);
  if (text.charCodeAt(i) !== 123) return undefined;
  i = ws(text, i + 1);
  if (!text.startsWith('"instances"', i)) return undefined;
  i = ws(text, i + 11);
  if (text.charCodeAt(i) !== 58) return undefined;
  i = ws(text, i + 1);
  if (text.charCodeAt(i) !== 91) return undefined;
  i = ws(text, i + 1);
  let n = 0,
    p = 0;
  // the buffers as locals (grow() replaces them), whitespace skipped by a call only where there is some
  // (compact JSON has none): the scan of serve-speed's bodies took 13 / 280 µs at 16 / 256 instances instead of
  // 26 / 464 (medians, bench/serve-featurize.ts)
  let P = pairs,
    T = types,
    N = starts;
  for (;;) {
    if (text.charCodeAt(i) !== 123 || n >= MAX_INSTANCES) return undefined;
    if (4 * p + 4 > P.length || n + 2 > N.length) {
      grow(p, n);
      P = pairs;
      T = types;
      N = starts;
    }
    N[n++] = p;
    i++;
    if (text.charCodeAt(i) <= 32) i = ws(text, i);
    if (text.charCodeAt(i) === 125) i = ws(text, i + 1);
    else
      for (;;) {
        if (text.charCodeAt(i) !== 34) return undefined;
        const ke = stringEnd(text, i + 1);
        if (ke < 0) return undefined;
        if (4 * p + 4 > P.length) {
          grow(p, n);
          P = pairs;
          T = types;
          N = starts;
        }
        P[4 * p] = i + 1;
        P[4 * p + 1] = ke;
        i = ke + 1;
        if (text.charCodeAt(i) <= 32) i = ws(text, i);
        if (text.charCodeAt(i) !== 58) return undefined;
        i++;
        if (text.charCodeAt(i) <= 32) i = ws(text, i);
        const c = text.charCodeAt(i);
        let vs = i,
          ve: number;
        if (c === 34) {
          vs = i + 1;
          ve = stringEnd(text, vs);
          if (ve < 0) return undefined;
          T[p] = STRING;
          i = ve + 1;
        } else if (c === 110) {
          if (!text.startsWith('null', i)) return undefined;
          ve = i + 4;
          T[p] = NULL;
          i = ve;
        } else {
          ve = numberEnd(text, i);
          if (ve < 0) return undefined;
          T[p] = NUMBER;
          i = ve;
        }
        P[4 * p + 2] = vs;
        P[4 * p + 3] = ve;
        p++;
        if (text.charCodeAt(i) <= 32) i = ws(text, i);
        const sep = text.charCodeAt(i);
        i++;
        if (text.charCodeAt(i) <= 32) i = ws(text, i);
        if (sep === 125) break;
        if (sep !== 44) return undefined;
      }
    const sep = text.charCodeAt(i);
    i = ws(text, i + 1);
    if (sep === 93) break;
    if (sep !== 44) return undefined;
  }
  if (text.charCodeAt(i) !== 125 || ws(text, i + 1) !== text.length) return undefined;
  starts[n] = p;
  return { n, starts: starts.subarray(0, n + 1), pairs: pairs.subarray(0, 4 * p), types: types.subarray(0, p) };
}

/**
 * Per featurizer: its slots in tower order (categorical, then numeric), their index by name, and
 * the ids of its categorical values by their text (TextIds, one per categorical slot).
 */
const slotsOf = new WeakMap<
  Featurizer,
  { names: string[]; index: Map<string, number>; guess: Int32Array; at: Int32Array; num: Float64Array; ids: TextIds[] }
>();

function slots(f: Featurizer) {
  let s = slotsOf.get(f);
  if (!s) {
    const names = [...f.schema.categorical, ...f.schema.numeric];
    s = {
      names,
      index: new Map(names.map((x, i) => [x, i])),
      guess: Int32Array.from(names, (_, i) => i),
      at: new Int32Array(names.length),
      num: new Float64Array(names.length),
      ids: f.schema.categorical.map(() => new TextIds()),
    };
    slotsOf.set(f, s);
  }
  return s;
}

/**
 * The features of a scanned body under `featurizer`'s schema, as Featurizer.fromInstances gives
 * them for JSON.parse(text).instances. A categorical string's id comes from the slot's TextIds
 * when the same text was seen before (else from Featurizer.putCategorical, then kept).
 * @returns undefined when an instance names a slot the schema lacks or holds a value the slow
 *   path refuses or must judge (its checks give the message): a number in a categorical slot, a
 *   string in a numeric one, a number beyond FLOAT_MAX_INT (lossy or not: the literal decides).
 */
export function featurizeScan(scan: Scan, text: string, featurizer: Featurizer): FeatureBatch | undefined {
  const { names, index, guess, at, num, ids } = slots(featurizer);
  const C = featurizer.schema.categorical.length,
    S = names.length,
    F = featurizer.numSlots;
  const { starts, pairs, types } = scan;
  const out = featurizer.servingBatch(scan.n);
  const { idHi, idLo } = out;
  for (let b = 0; b < scan.n; b++) {
    at.fill(-1);
    const first = starts[b];
    // {"b64": ...} is a base64 value to TF Serving, not an instance (json_tensor.cc IsValBase64Object)
    if (starts[b + 1] - first === 1 && text.startsWith('b64"', pairs[4 * first])) return undefined;
    for (let p = first, q = 0; p < starts[b + 1]; p++, q++) {
      const ks = pairs[4 * p],
        ke = pairs[4 * p + 1];
      // instances list their keys in one order: try the slot at this position in the last one
      let s = q < S ? guess[q] : -1;
      if (s < 0 || names[s].length !== ke - ks || !text.startsWith(names[s], ks)) {
        s = index.get(text.slice(ks, ke)) ?? -1;
        if (s < 0) return undefined;
        if (q < S) guess[q] = s;
      }
      const ty = types[p];
      // the slow path's value checks (json-body.ts valueFault): strings and null in categorical slots, numbers a
      // float holds and null in numeric ones; a number beyond FLOAT_MAX_INT is judged there (its literal)
      if (ty === NUMBER) {
        if (s < C) return undefined;
        const v = numberAt(text, pairs[4 * p + 2], pairs[4 * p + 3]);
        if (!(Math.abs(v) <= FLOAT_MAX_INT)) return undefined;
        num[s] = v;
      } else if (ty === STRING && s >= C) return undefined;
      at[s] = p; // a key given twice: the last value, as JSON.parse keeps it
    }
    for (let c = 0; c < C; c++) {
      const p = at[c];
      if (p < 0 || types[p] === NULL) {
        featurizer.putCategorical(out, b, c, null);
        continue;
      }
      const vs = pairs[4 * p + 2],
        ve = pairs[4 * p + 3];
      const h = fnv1a(text, vs, ve);
      const cache = ids[c];
      const k = cache.find(text, vs, ve, h);
      const i = b * F + c;
      if (k >= 0) {
        idHi[i] = cache.hi[k];
        idLo[i] = cache.lo[k];
      } else {
        const value = text.slice(vs, ve);
        featurizer.putCategorical(out, b, c, value);
        cache.add(value, h, idHi[i], idLo[i]);
      }
    }
    for (let n = C; n < S; n++) {
      const p = at[n];
      featurizer.putNumeric(out, b, n - C, p < 0 || types[p] === NULL ? null : num[n]);
    }
  }
  taken++;
  return out;
}
