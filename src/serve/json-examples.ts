/**
 * A classify/regress request body (`{"examples": [{feature: value|[values]}], "context"?}`) as
 * lionctr instances, with TF Serving's checks and messages of tensorflow_serving/util/
 * json_tensor.cc (FillClassifyRegressRequestFromJson, MakeExampleFromJsonObject,
 * AddValueToFeature). Context features are merged into every example (an example's own value
 * wins). A feature takes one value (or a list of one); lionctr's checks of slots and types
 * follow TF Serving's JSON checks, in lionctr's words where TF Serving has none.
 */
import { LionctrError } from '../errors.ts';
import { jsonTypeString } from './json-debug.ts';
import {
  type JsonDoc,
  type SlotKinds,
  type UnknownSlotSink,
  type BigIntegers,
  formatError,
  integerLiteralsOf,
} from './json-body.ts';
import { slotValueFault } from './base64-value.ts';
import { checkCount, isBase64Object, type Rows } from './json-tensor.ts';
import { invalidArgument } from './tfs-error.ts';

/** The feature kind AddValueToFeature gives a JSON value (bytes, float, int64), or undefined when it refuses it. */
function featureKind(v: unknown): 'bytes' | 'float' | 'int64' | undefined {
  if (typeof v === 'string') return 'bytes';
  if (typeof v === 'boolean') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float';
  return undefined;
}

/** One Example object as {slot: value} (MakeExampleFromJsonObject + lionctr's slot checks). */
function exampleOf(
  v: unknown,
  where: string,
  kinds: SlotKinds,
  unknown?: UnknownSlotSink,
  ints?: BigIntegers,
): Record<string, unknown> {
  // json_tensor.cc MakeExampleFromJsonObject: "Example must be JSON object but got JSON ", JsonTypeString(val)
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw invalidArgument(`Example must be JSON object but got JSON ${jsonTypeString(v)}`, where);
  const out: Record<string, unknown> = {};
  for (const [name, content] of Object.entries(v)) {
    const values = Array.isArray(content) ? content : [content];
    let kind: string | undefined;
    for (const x of values) {
      // AddValueToFeature: "Feature: ", name, " has element with unexpected JSON type: ", JsonTypeString(val)
      if (x === null || Array.isArray(x) || (typeof x === 'object' && !isBase64Object(x)))
        throw invalidArgument(
          `Feature: ${name} has element with unexpected JSON type: ${jsonTypeString(x)}`,
          `${where}.${name}`,
        );
      // AddValueToFeature: a {"b64": ...} value is a bytes feature's
      const k = featureKind(x) ?? 'bytes';
      // IncompatibleFeatureKindError: "Unexpected element type in feature: ", name, " expecting type: ", kind
      if (kind && kind !== k && !(kind !== 'bytes' && k !== 'bytes'))
        throw invalidArgument(
          `Unexpected element type in feature: ${name} expecting type: ${kind}`,
          `${where}.${name}`,
        );
      kind ??= k;
    }
    const slot = kinds.get(name);
    if (!slot && unknown) {
      unknown.drop(name, 1); // schema.unknownSlots=ignore
      continue;
    }
    // the same words as a predict request's unknown slot (json-tensor.ts; README "One rule for unknown slots")
    if (!slot) throw invalidArgument(`JSON object: does not have named input: ${name}`, `${where}.${name}`);
    if (values.length > 1)
      throw new LionctrError(
        'LIONCTR_BAD_REQUEST',
        `Feature: ${name} has ${values.length} values; a slot takes one value per example`,
        { where: `${where}.${name}` },
      );
    // as a predict request's value of the wrong type: TF Serving's TypeError text (json_tensor.cc), ...; a
    // {"b64": ...} value is replaced by its text (slotValueFault)
    const fault = slotValueFault(values, 0, slot, ints);
    if (fault) throw invalidArgument(fault, `${where}.${name}`);
    out[name] = values[0];
  }
  return out;
}

/**
 * The examples of a classify/regress request (json_tensor.cc FillClassifyRegressRequestFromJson).
 * @throws TfsError 400 with TF Serving's message (`JSON Value: ... When method is classify,
 *   key 'examples' is expected and was not found` — TF Serving says "classify" for regress
 *   too —, `... Expecting 'examples' value to be an list/array`, `... 'examples' value is an
 *   empty array`, `Example must be JSON object but got JSON ...`, ...); LionctrError 400 for
 *   an unknown slot (unless `unknown` takes it: schema.unknownSlots=ignore) or a value its slot cannot take.
 */
export function exampleRows(doc: JsonDoc, kinds: SlotKinds, unknown?: UnknownSlotSink): Rows {
  const ints = integerLiteralsOf(doc);
  const context = 'context' in doc ? exampleOf(doc.context, 'context', kinds, unknown, ints) : {};
  const list = doc.examples;
  if (list === undefined)
    throw formatError(doc, "When method is classify, key 'examples' is expected and was not found", 'examples');
  if (!Array.isArray(list)) throw formatError(doc, "Expecting 'examples' value to be an list/array", 'examples');
  if (list.length === 0) throw formatError(doc, "'examples' value is an empty array", 'examples');
  checkCount(list.length, 'examples');
  const rows = list.map((e, i) => ({ ...context, ...exampleOf(e, `examples[${i}]`, kinds, unknown, ints) }));
  return { format: 'row', rows, where: (i) => `examples[${i}]` };
}
