/**
 * The parts of TF Serving's request parsing (tensorflow_serving/util/json_tensor.cc) that
 * every API shares: the body as a JSON object (ParseJson), `signature_name` (FillSignature),
 * the signature lookups of the predict and classify/regress handlers, and the value check of a
 * slot with TF Serving's TypeError wording. Messages are TF Serving's, quoted with their source.
 */
import { isUtf8 } from 'node:buffer';
import type { FeatureSchema } from '../features/schema.ts';
import { jsonDebugString, jsonTypeString } from './json-debug.ts';
import { invalidArgument } from './tfs-error.ts';

/** A request body: a JSON object. */
export type JsonDoc = Record<string, unknown>;

/**
 * The one signature of a lionctr model (kDefaultServingSignatureDefKey of
 * tensorflow/cc/saved_model/signature_constants.h).
 */
export const SERVING_DEFAULT = 'serving_default';

/** json_tensor.cc FormatError: "JSON Value: <value as debug string> <what>". */
export const formatError = (value: unknown, what: string, where = 'body') =>
  invalidArgument(`JSON Value: ${jsonDebugString(value)} ${what}`, where);

/**
 * The text of a request body, read as training reads a Kafka message or file: a leading UTF-8
 * BOM is dropped (RFC 8259 section 8.1 lets a parser ignore it); bytes that are not UTF-8 are
 * refused, as a Kafka message's are (`bad_utf8`), not read as U+FFFD.
 * @throws TfsError 400 `JSON Parse error: the body is not valid UTF-8`.
 */
export function bodyText(raw: Buffer): string {
  if (!isUtf8(raw)) throw invalidArgument('JSON Parse error: the body is not valid UTF-8', 'body');
  const bom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  return raw.toString('utf8', bom ? 3 : 0);
}

/**
 * The body as a JSON object (json_tensor.cc ParseJson: rapidjson's ParseStream with
 * kParseNanAndInfFlag and without kParseStopWhenDoneFlag). As rapidjson with that flag, the
 * literals `NaN`, `Inf`, `Infinity` (and with a minus) are numbers (parseNonFinite); content after
 * the document (other than whitespace) is refused with rapidjson's words. The integer literals
 * that a float cannot hold exactly are remembered for the value checks (integerLiteralsOf).
 * @throws TfsError 400 `JSON Parse error: The document is empty`, `JSON Parse error: The document
 *   root must not be followed by other values. at offset: <byte>`, `JSON Parse error: <parser's
 *   message>` (V8's words, not rapidjson's), `JSON Value: ... Is not object`.
 */
export function parseJsonBody(text: string | undefined): JsonDoc {
  if (text === undefined || text.trim() === '')
    throw invalidArgument('JSON Parse error: The document is empty', 'body');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    doc = parseNonFinite(text);
    if (doc === undefined) throw invalidArgument(`JSON Parse error: ${parseErrorText(e as Error, text)}`, 'body');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw formatError(doc, 'Is not object');
  const ints = bigIntegerLiterals(text);
  if (ints) integerLiterals.set(doc, ints);
  return doc as JsonDoc;
}

/**
 * V8's message for a JSON.parse failure, but rapidjson's for content after the document
 * (kParseErrorDocumentRootNotSingular, error/en.h), with its byte offset, as TF Serving words it.
 */
function parseErrorText(e: Error, text: string): string {
  const m = /^Unexpected non-whitespace character after JSON at position (\d+)/.exec(e.message);
  if (!m) return e.message;
  const at = Buffer.byteLength(text.slice(0, Number(m[1])));
  return `The document root must not be followed by other values. at offset: ${at}`;
}

/** Placeholders of the non-finite literals while JSON.parse reads the rest (a NUL starts each). */
const NON_FINITE: Record<string, number> = { '\u0000n': Number.NaN, '\u0000+': Infinity, '\u0000-': -Infinity };

/**
 * `text` parsed as rapidjson's kParseNanAndInfFlag reads it (reader.h ParseNumber): `NaN`,
 * `-NaN` (NaN), `Inf`, `Infinity`, `-Inf`, `-Infinity` where a value may stand, outside strings.
 * @returns the document, or undefined when it has none of those literals or is not JSON with
 *   them (the caller reports JSON.parse's error), or holds an escaped NUL (`\u0000`, which the
 *   placeholders use).
 */
export function parseNonFinite(text: string): unknown {
  if (!/NaN|Inf/.test(text) || /\\u0000/i.test(text)) return undefined;
  let out = '',
    from = 0,
    found = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // skip a string: to the quote not escaped
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      continue;
    }
    if (c !== 78 && c !== 73 && c !== 45) continue; // N, I, -
    const minus = c === 45 ? 1 : 0;
    const rest = text.slice(i + minus, i + minus + 8);
    const lit = rest.startsWith('NaN')
      ? 'NaN'
      : rest.startsWith('Infinity')
        ? 'Infinity'
        : rest.startsWith('Inf')
          ? 'Inf'
          : '';
    if (!lit) continue;
    const mark = lit === 'NaN' ? 'n' : minus ? '-' : '+';
    out += `${text.slice(from, i)}"\\u0000${mark}"`;
    from = i + minus + lit.length;
    i = from - 1;
    found = true;
  }
  if (!found) return undefined;
  try {
    return JSON.parse(out + text.slice(from), (_k, v) =>
      typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v,
    );
  } catch {
    return undefined;
  }
}

/** The big integer literals of each parsed body (bigIntegerLiterals), for valueFault. */
const integerLiterals = new WeakMap<object, BigIntegers>();

/** The integer literals of `doc`'s text that a float cannot hold (bigIntegerLiterals), if any. */
export const integerLiteralsOf = (doc: object): BigIntegers | undefined => integerLiterals.get(doc);

/** Integer literals beyond FLOAT_MAX_INT: value -> the literal as written (rapidjson quotes it so). */
export type BigIntegers = ReadonlyMap<number, string>;

/** Largest integer a float holds with every smaller one (json_tensor.cc IsLosslessDecimal<float>'s kMaxInt). */
export const FLOAT_MAX_INT = 2 ** 24 - 1;
/** Largest finite float32 (std::numeric_limits<float>::max()). */
export const FLOAT_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2 ** 63),
  UINT64_MAX = 2 ** 64;

/**
 * The integer literals in `text` (outside strings: no fraction, no exponent) beyond FLOAT_MAX_INT
 * that rapidjson reads as integers (those within int64/uint64; a longer one is a double to
 * rapidjson), by value, or undefined when there are none (no run of 8 digits: the common case,
 * one regex test). A value given both as such a literal and as a decimal (16777217.0) in one body
 * is taken for the literal.
 */
export function bigIntegerLiterals(text: string): BigIntegers | undefined {
  if (!/\d{8}/.test(text)) return undefined;
  let found: Map<number, string> | undefined;
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(\.\d+)?([eE][-+]?\d+)?/g;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    if (m[0].charCodeAt(0) === 34 || m[1] !== undefined || m[2] !== undefined) continue;
    const v = Number(m[0]);
    if (Math.abs(v) <= FLOAT_MAX_INT || v < INT64_MIN || v >= UINT64_MAX) continue;
    found ??= new Map();
    if (!found.has(v)) found.set(v, m[0]);
  }
  return found;
}

/**
 * The request's `signature_name` ('' when absent; json_tensor.cc FillSignature).
 * @throws TfsError 400 `JSON Value: ... not formatted correctly. 'signature_name' key must be a string value.`
 */
export function signatureName(doc: JsonDoc): string {
  const s = doc.signature_name;
  if (s === undefined) return '';
  if (typeof s !== 'string')
    throw formatError(doc, "not formatted correctly. 'signature_name' key must be a string value.", 'signature_name');
  return s;
}

/**
 * Checks a predict request's signature (http_rest_api_handler.cc GetInfoMap).
 * @throws TfsError 400 `Serving signature name: "<name>" not found in signature def`.
 */
export function checkPredictSignature(name: string): void {
  if (name !== '' && name !== SERVING_DEFAULT)
    throw invalidArgument(`Serving signature name: "${name}" not found in signature def`, 'signature_name');
}

/**
 * Checks a classify/regress request's signature (servables/tensorflow/classifier.cc and
 * regressor.cc, GetClassificationSignatureDef / GetRegressionSignatureDef).
 * @throws TfsError 400 `No signature was found with the name: <name>`.
 */
export function checkExampleSignature(name: string): void {
  if (name !== '' && name !== SERVING_DEFAULT)
    throw invalidArgument(`No signature was found with the name: ${name}`, 'signature_name');
}

/** The kind of each slot of a schema. */
export type SlotKinds = ReadonlyMap<string, 'numeric' | 'categorical'>;

/**
 * Where a request's keys that are not slots go under schema.unknownSlots=ignore
 * (src/features/unknown-slots.ts): `drop(key, n)` hears of each key dropped, with the values it
 * held (n examples); the request readers pass none (undefined) under `reject`, which refuses the key.
 */
export interface UnknownSlotSink {
  drop(key: string, n: number): void;
}

/** Slot -> kind, in tower order (categorical, then numeric). */
export const slotKinds = (s: FeatureSchema): SlotKinds =>
  new Map([...s.categorical.map((c) => [c, 'categorical'] as const), ...s.numeric.map((n) => [n, 'numeric'] as const)]);

/** TF Serving's dtype of a slot kind, as DataTypeString names it (float, string) and as DataType (DT_FLOAT, ...). */
export const dtypeOf = (kind: 'numeric' | 'categorical') =>
  kind === 'numeric' ? { name: 'float', enum: 'DT_FLOAT' } : { name: 'string', enum: 'DT_STRING' };

/**
 * What is wrong with a predict/classify/regress value `v` for a slot of `kind`, as TF Serving
 * words it, or undefined when the slot takes it. null/absent is missing (lionctr's extension).
 * Categorical slots take strings only, as TF Serving's DT_STRING (json_tensor.cc AddValueToTensor:
 * `if (!val.IsString()) return TypeError(val, dtype)`: a number gets TypeError's text). Numeric
 * slots take JSON numbers only, as DT_FLOAT (`if (!val.IsNumber()) return TypeError(val, dtype)`:
 * "1.5" and "" too), and as IsLosslessDecimal<float> refuses (LossyDecimalError's text) an integer
 * literal beyond FLOAT_MAX_INT (2^24 - 1: `ints`, the body's bigIntegerLiterals) and a number
 * beyond FLOAT_MAX; lionctr also refuses NaN and ±Infinity there (TF Serving takes them; the
 * tower would answer a non-finite score): `... is not a finite number`.
 * Training still reads numbers written as text (parseNumber): its inputs are text formats.
 * @param ints the body's integer literals beyond FLOAT_MAX_INT (undefined: none).
 */
export function valueFault(v: unknown, kind: 'numeric' | 'categorical', ints?: BigIntegers): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (kind === 'categorical') return typeof v === 'string' ? undefined : typeErrorText(v, kind);
  if (typeof v !== 'number') return typeErrorText(v, kind);
  if (!Number.isFinite(v))
    return (
      `JSON Value: ${jsonDebugString(v)} is not a finite number: ` +
      "lionctr's numeric slots take finite numbers (null for a missing value)"
    );
  const a = Math.abs(v);
  const literal = a > FLOAT_MAX_INT ? ints?.get(v) : undefined;
  if (a > FLOAT_MAX || literal !== undefined)
    // json_tensor.cc LossyDecimalError: "Cannot convert JSON value: ", JsonValueToString(val), " to ", target, ...
    return `Cannot convert JSON value: ${literal ?? jsonDebugString(v)} to float without loss of precision.`;
  return undefined;
}

/** json_tensor.cc TypeError: "JSON Value: <v> Type: <JSON type> is not of expected type: <dtype>". */
export const typeErrorText = (v: unknown, kind: 'numeric' | 'categorical') =>
  `JSON Value: ${jsonDebugString(v)} Type: ${jsonTypeString(v)} is not of expected type: ${dtypeOf(kind).name}`;
