/**
 * A predict request body as lionctr instances (`{slot: value}` rows for the featurizer), with
 * TF Serving's checks and messages of tensorflow_serving/util/json_tensor.cc
 * (FillPredictRequestFromJson, FillTensorMapFromInstancesList, FillTensorMapFromInputsMap).
 * lionctr's model has one named input per slot, so `instances` is a list of objects and
 * `inputs` an object of lists. Beyond TF Serving, a slot may be left out (a missing value, as
 * null is); values are checked as TF Serving's DT_STRING and DT_FLOAT inputs check them
 * (json-body.ts valueFault: categorical slots take strings, or `{"b64": ...}` decoding to UTF-8 text as in
 * base64-value.ts; numeric slots numbers a float holds),
 * and NaN/Infinity in a numeric slot are refused; faults TF Serving has no words for get lionctr's.
 */
import { LionctrError } from '../errors.ts';
import { MAX_INSTANCES } from '../features/featurizer.ts';
import { jsonTypeString } from './json-debug.ts';
import { type JsonDoc, type SlotKinds, type UnknownSlotSink, formatError, integerLiteralsOf } from './json-body.ts';
import { slotValueFault } from './base64-value.ts';
import { invalidArgument } from './tfs-error.ts';

/** Rows for the featurizer, the response format and how to name row i in a message. */
export interface Rows {
  /** 'row': {"instances"} -> {"predictions"}; 'columnar': {"inputs"} -> {"outputs"} (JsonPredictRequestFormat). */
  format: 'row' | 'columnar';
  rows: Record<string, unknown>[];
  /** Where example i came from, e.g. `instances[3]`. */
  where: (i: number) => string;
}

/** json_tensor.cc IsValBase64Object: an object with the one key "b64". */
export const isBase64Object = (v: unknown) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'b64' in v;

/** json_tensor.cc FillTensorMapFromInstancesList's IsElementObject. */
const isElementObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !isBase64Object(v);

/** @throws LionctrError 400 when a request holds more than MAX_INSTANCES examples (lionctr's limit). */
export function checkCount(n: number, where: string): void {
  if (n > MAX_INSTANCES)
    throw new LionctrError('LIONCTR_BAD_REQUEST', `too many instances: ${n} > ${MAX_INSTANCES}`, { where });
}

/** "instances": [{slot: value}, ...] (FillTensorMapFromInstancesList). */
function instanceRows(doc: JsonDoc, kinds: SlotKinds, unknown?: UnknownSlotSink): Rows {
  const list = doc.instances;
  const ints = integerLiteralsOf(doc);
  // json_tensor.cc FillPredictRequestFromJson: FormatError(doc, "Expecting '", "instances", "' to be an list/array")
  if (!Array.isArray(list)) throw formatError(doc, "Expecting 'instances' to be an list/array", 'instances');
  if (list.length === 0) throw formatError(doc, "No values in 'instances' array", 'instances');
  checkCount(list.length, 'instances');
  if (!isElementObject(list[0]))
    throw invalidArgument(
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per ' +
        'tensorinfo_map',
      'instances[0]',
    );
  for (let i = 0; i < list.length; i++) {
    const inst = list[i];
    if (!isElementObject(inst))
      throw invalidArgument(`Expecting object but got list at item ${i} of input list`, `instances[${i}]`);
    // for-in over a parsed JSON object: its own keys in Object.keys order, without allocating entries
    for (const key in inst) {
      const kind = kinds.get(key);
      if (!kind && unknown) {
        delete inst[key]; // schema.unknownSlots=ignore (deleting the key being visited is safe in for-in)
        unknown.drop(key, 1);
        continue;
      }
      // a {"b64": ...} value is replaced by its text in the instance (slotValueFault)
      const inner = !kind ? `JSON object: does not have named input: ${key}` : slotValueFault(inst, key, kind, ints);
      // FillTensorMapFromInstancesList: "Failed to process element: ", i, " key: ", name,
      //   " of 'instances' list. Error: ", status.ToString()  (ToString prefixes the code)
      if (inner)
        throw invalidArgument(
          `Failed to process element: ${i} key: ${key} of 'instances' list. Error: INVALID_ARGUMENT: ${inner}`,
          `instances[${i}].${key}`,
        );
    }
  }
  return { format: 'row', rows: list as Record<string, unknown>[], where: (i) => `instances[${i}]` };
}

/** "inputs": {slot: [values...], ...} (FillTensorMapFromInputsMap). */
function columnRows(doc: JsonDoc, kinds: SlotKinds, unknown?: UnknownSlotSink): Rows {
  const cols = doc.inputs;
  if (!isElementObject(cols))
    throw invalidArgument(
      'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
      'inputs',
    );
  let keys = Object.keys(cols);
  if (unknown) {
    const known = keys.filter((k) => kinds.has(k));
    for (const k of keys) if (!kinds.has(k)) unknown.drop(k, Array.isArray(cols[k]) ? cols[k].length : 1);
    if (known.length > 0) keys = known; // a request of unknown keys only: refused below, naming one
  }
  // FillTensorMapFromInputsMap: "Missing named input: ", name, " in 'inputs' object."
  // (lionctr: only when none is given; a slot left out is missing in every example)
  if (keys.length === 0)
    throw invalidArgument(`Missing named input: ${[...kinds.keys()][0]} in 'inputs' object.`, 'inputs');
  const ints = integerLiteralsOf(doc);
  let n = -1;
  for (const key of keys) {
    const kind = kinds.get(key);
    if (!kind) throw invalidArgument(`JSON object: does not have named input: ${key}`, `inputs.${key}`);
    const col = cols[key];
    if (!Array.isArray(col))
      throw new LionctrError(
        'LIONCTR_BAD_REQUEST',
        `inputs.${key} must be a list with one value per example, got ${jsonTypeString(col)}`,
        { where: `inputs.${key}` },
      );
    if (n >= 0 && col.length !== n)
      throw new LionctrError(
        'LIONCTR_BAD_REQUEST',
        `inputs.${key} has ${col.length} values but inputs.${keys[0]} has ${n}: ` +
          'every input needs the same 0-th dimension',
        { where: `inputs.${key}` },
      );
    n = col.length;
    for (let i = 0; i < col.length; i++) {
      const fault = slotValueFault(col, i, kind, ints);
      if (fault) throw invalidArgument(fault, `inputs.${key}[${i}]`);
    }
  }
  if (n === 0)
    throw new LionctrError('LIONCTR_BAD_REQUEST', 'inputs hold no examples (empty lists)', { where: 'inputs' });
  checkCount(n, 'inputs');
  const rows = Array.from({ length: n }, (_, i) => {
    const r: Record<string, unknown> = {};
    for (const key of keys) r[key] = (cols[key] as unknown[])[i];
    return r;
  });
  return { format: 'columnar', rows, where: (i) => `inputs[*][${i}]` };
}

/**
 * The examples of a predict request (json_tensor.cc FillPredictRequestFromJson), checked
 * against the model's slots.
 * @throws TfsError 400 with TF Serving's message: both keys (`JSON Value: ... Not formatted
 *   correctly expecting only one of 'inputs' or 'instances' keys to exist `), neither
 *   (`Missing 'inputs' or 'instances' key`), `No values in 'instances' array`, an unknown slot,
 *   a value of the wrong type, ...; LionctrError 400 for faults TF Serving does not name.
 * @param unknown where keys that are not slots go (schema.unknownSlots=ignore); absent: they are refused.
 */
export function predictRows(doc: JsonDoc, kinds: SlotKinds, unknown?: UnknownSlotSink): Rows {
  const hasInstances = 'instances' in doc,
    hasInputs = 'inputs' in doc;
  if (hasInstances && hasInputs)
    // the trailing space is TF Serving's: "' keys to exist "
    throw formatError(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
  if (hasInstances) return instanceRows(doc, kinds, unknown);
  if (hasInputs) return columnRows(doc, kinds, unknown);
  throw invalidArgument("Missing 'inputs' or 'instances' key", 'body');
}
