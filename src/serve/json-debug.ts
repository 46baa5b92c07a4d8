/**
 * TF Serving's `JsonValueToDebugString` (tensorflow_serving/util/json_tensor.cc, ~l. 229): a
 * JSON value written by rapidjson's PrettyWriter (4-space indent, kFormatSingleLineArray:
 * arrays on one line, elements separated by ", ") and cut once 256 bytes are written
 * (kMaxJsonDebugStringBytes; the cut may leave invalid JSON). Error messages quote the request
 * with it ("JSON Value: {...} No values in 'instances' array").
 */

/** kMaxJsonDebugStringBytes of json_tensor.cc. */
const MAX_DEBUG_BYTES = 256;

/** A JSON string as rapidjson's Writer escapes it (", \, control characters; "/" and non-ASCII kept). */
function rapidString(s: string): string {
  const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n' };
  Object.assign(short, { '\r': '\\r', '\t': '\\t' });
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (short[c]) out += short[c];
    else if (code < 0x20) out += `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** A number as rapidjson writes it: integers as integers, doubles shortest, exponent without "+". */
function rapidNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 63) return x.toFixed(0);
  return String(x).replace('e+', 'e');
}

/**
 * `value` as TF Serving quotes a request in an error message (see the module doc).
 * @param value a parsed JSON value.
 */
export function jsonDebugString(value: unknown): string {
  let out = '';
  const room = () => Buffer.byteLength(out) < MAX_DEBUG_BYTES;
  // each call is one rapidjson handler call: the limit is checked before it writes anything,
  // and the separator before a value (", " in arrays, ": " after a key) is written by that call
  const write = (v: unknown, depth: number, prefix: string): boolean => {
    if (!room()) return false;
    out += prefix;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length; i++) if (!write(v[i], depth + 1, i > 0 ? ', ' : '')) return false;
      if (!room()) return false;
      out += ']';
      return true;
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      out += '{';
      for (let i = 0; i < entries.length; i++) {
        if (!room()) return false;
        out += `${i > 0 ? ',' : ''}\n${'    '.repeat(depth + 1)}${rapidString(entries[i][0])}`;
        if (!write(entries[i][1], depth + 1, ': ')) return false;
      }
      if (!room()) return false;
      out += entries.length > 0 ? `\n${'    '.repeat(depth)}}` : '}';
      return true;
    }
    if (typeof v === 'string') out += rapidString(v);
    else if (typeof v === 'number') out += rapidNumber(v);
    else out += String(v); // true, false, null
    return true;
  };
  write(value, 0, '');
  return out;
}

/** rapidjson's type name of a JSON value (JsonTypeString of json_tensor.cc): Null, False, True, Object, ... */
export function jsonTypeString(v: unknown): string {
  if (v === null || v === undefined) return 'Null';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'object') return 'Object';
  if (typeof v === 'string') return 'String';
  return 'Number';
}
