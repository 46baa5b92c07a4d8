/**
 * How a config value is read, the same for every key and every source (config file, env var,
 * `--set`, command flag): strictly, by the type of the key's default, so that a value means
 * what it says or is refused naming the key and where it came from.
 *
 * - Empty (or blank) text is refused, except for a string key whose default is itself empty
 *   (`checkpoint.dir`, `train.auditLog`, ...: empty means "off" or "derived" there).
 * - A number key takes a JSON number, whole: `1e3` is 1000, `8081abc`, `5k`, `0x10`, `1_000`
 *   are refused; an integer key then refuses a fraction (`1e-3`, `1.5`) in its format check.
 * - A boolean key takes `true`, `false`, `1` or `0` (JSON true/false/1/0 in a file); `no`,
 *   `yes`, `off` are refused.
 * - A string key takes the text as it is, or the JSON string when the text is quoted
 *   (`--set source.kind="file"`).
 * - A list or object key takes JSON (a string list also `a,b`), checked by its format.
 */
import { LionctrError } from '../errors.ts';
import type { SchemaLeaf } from './keys.ts';

/** A JSON number, the whole text (no hex, no suffix, no `Infinity`). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** `text` (trimmed) as a JSON number, whole (`1e3` = 1000); undefined when it is not one or not finite. */
export function jsonNumber(text: string): number | undefined {
  const t = text.trim();
  const n = JSON_NUMBER.test(t) ? Number(t) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The type a key's values have: that of its default. */
export type ValueKind = 'number' | 'boolean' | 'string' | 'json';

/** The kind of a leaf: from its default's type (a list or object default: json). */
export function kindOf(leaf: SchemaLeaf): ValueKind {
  const t = typeof leaf.default;
  return t === 'number' || t === 'boolean' || t === 'string' ? t : 'json';
}

/**
 * Reads one value of `key` from `from` (a file path, `env NAME`, `--set`, a flag): text (env
 * var, --set, flag; or a string in a config file) is parsed by the key's kind; a typed JSON value
 * of a file is kept (a boolean key also maps 0/1). What this does not refuse, the key's format
 * checks when the configuration is validated.
 * @returns the value to set (a list or object key's text is returned as text, for its format's coerce).
 * @throws LionctrError LIONCTR_BAD_CONFIG `<key>: <what is wrong> (at <from>)`.
 */
export function readValue(key: string, leaf: SchemaLeaf, raw: unknown, from: string): unknown {
  const kind = kindOf(leaf);
  const bad = (what: string): never => {
    throw new LionctrError('LIONCTR_BAD_CONFIG', `${key}: ${what}`, { where: from });
  };
  if (typeof raw !== 'string') {
    if (kind === 'boolean' && (raw === 0 || raw === 1)) return raw === 1;
    if (kind === 'number' && typeof raw === 'number' && !Number.isFinite(raw)) bad('must be a finite number');
    return raw;
  }
  const text = raw.trim();
  if (text === '') {
    if (kind === 'string' && leaf.default === '') return '';
    bad('is empty: give a value (an empty value is not 0, false, off or the default)');
  }
  switch (kind) {
    case 'number':
      return jsonNumber(text) ?? bad(`must be a number, got ${JSON.stringify(raw)}`);
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return bad(`must be true, false, 1 or 0, got ${JSON.stringify(raw)}`);
    case 'string':
      return text.startsWith('"') ? unquote(text, bad) : raw;
    default:
      return raw;
  }
}

/** A quoted text as the JSON string it is. */
function unquote(text: string, bad: (what: string) => never): string {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'string') return v;
  } catch {
    /* refused below */
  }
  return bad(`starts with a quote but is not a JSON string: ${text}`);
}
