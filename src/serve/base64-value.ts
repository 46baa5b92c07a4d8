/**
 * A categorical slot's value sent as `{"b64": "<base64>"}`, TF Serving's form of a DT_STRING
 * value (tensorflow_serving/util/json_tensor.cc IsValBase64Object, JsonDecodeBase64Object; its
 * REST doc, "Encoding binary values"), decoded to the text lionctr hashes. The decoded bytes must
 * be UTF-8: a categorical slot's value is text (the featurization hashes its UTF-8 bytes), so
 * `{"b64": "YQ=="}` scores as `"a"` and bytes that are not UTF-8 are refused rather than replaced.
 */
import { type BigIntegers, valueFault } from './json-body.ts';
import { jsonDebugString } from './json-debug.ts';

/** The text a `{"b64": ...}` value encodes, or what is wrong with it (a message for a 400). */
export type Base64Text = { text: string; fault?: undefined } | { text?: undefined; fault: string };

/** Standard base64 (RFC 4648 sec. 4), padding optional as absl::Base64Unescape takes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `v`, an object in a categorical slot's place.
 * Faults: not an object of the one key "b64" holding a string, TF Serving's Base64FormatError
 * (`JSON Value: <v> not formatted correctly for base64 data`); not base64, TF Serving's `Unable to
 * base64 decode`; bytes that are not UTF-8, lionctr's words.
 */
export function base64Text(v: object): Base64Text {
  const b64 = (v as { b64?: unknown }).b64;
  if (Array.isArray(v) || Object.keys(v).length !== 1 || typeof b64 !== 'string')
    return { fault: `JSON Value: ${jsonDebugString(v)} not formatted correctly for base64 data` };
  if (!BASE64.test(b64)) return { fault: 'Unable to base64 decode' };
  try {
    return { text: utf8.decode(Buffer.from(b64, 'base64')) };
  } catch {
    return {
      fault:
        `JSON Value: ${jsonDebugString(v)} decodes to bytes that are not UTF-8: ` +
        "lionctr's categorical slots take text",
    };
  }
}

/**
 * What is wrong with `holder[key]` as a value of a slot of `kind` (json-body.ts valueFault), or
 * undefined; a `{"b64": ...}` object in a categorical slot is first checked and replaced in
 * `holder` by the text it encodes (base64Text). One rule for instances, columns and examples.
 */
export function slotValueFault(
  holder: Record<string, unknown> | unknown[],
  key: string | number,
  kind: 'numeric' | 'categorical',
  ints?: BigIntegers,
): string | undefined {
  const v = (holder as Record<string | number, unknown>)[key];
  if (kind !== 'categorical' || typeof v !== 'object' || v === null || Array.isArray(v))
    return valueFault(v, kind, ints);
  const d = base64Text(v);
  if (d.text !== undefined) (holder as Record<string | number, unknown>)[key] = d.text;
  return d.fault;
}
