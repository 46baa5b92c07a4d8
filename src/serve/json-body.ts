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
 * The body as a JSON object (json_tensor.cc ParseJson).
 * @throws TfsError 400 `JSON Parse error: The document is empty`, `JSON Parse error: <parser's
 *   message>` (V8's words, not rapidjson's), `JSON Value: ... Is not object`.
 */
export function parseJsonBody(text: string | undefined): JsonDoc {
  if (text === undefined || text.trim() === '')
    throw invalidArgument('JSON Parse error: The document is empty', 'body');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`JSON Parse error: ${(e as Error).message}`, 'body');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw formatError(doc, 'Is not object');
  return doc as JsonDoc;
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
 * True when a predict/classify/regress value `v` is taken for a slot of `kind`: null/absent is
 * missing (lionctr's extension); numeric slots take finite JSON numbers only, as TF Serving's
 * DT_FLOAT does (json_tensor.cc AddValueToTensor: `if (!val.IsNumber()) return TypeError(val,
 * dtype)`, so "1.5" and "" are refused with TypeError's 400); categorical slots take strings and
 * finite numbers ("" is the missing token; TF Serving's DT_STRING would take strings only).
 * Training still reads numbers written as text (parseNumber): its inputs are text formats.
 */
export function valueFits(v: unknown, kind: 'numeric' | 'categorical'): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'number') return Number.isFinite(v);
  return kind === 'categorical' && typeof v === 'string';
}

/** json_tensor.cc TypeError: "JSON Value: <v> Type: <JSON type> is not of expected type: <dtype>". */
export const typeErrorText = (v: unknown, kind: 'numeric' | 'categorical') =>
  `JSON Value: ${jsonDebugString(v)} Type: ${jsonTypeString(v)} is not of expected type: ${dtypeOf(kind).name}`;
