/**
 * A request body's object keys counted before it is parsed: a body whose objects hold more keys
 * than the model has slots (plus a margin), or that names more distinct keys than that, is
 * refused with 400 before JSON.parse sees it. Distinct key names cost V8's JSON parser far more
 * than their bytes (a hidden class per new name, then a dictionary): one 8 MB instance of 937k
 * keys blocked the event loop ~1 s and 20k objects of 40 new names each ~5 s, while a valid
 * body of 5 MB parses in ~0.3 s. A valid request never needs more: its objects are instances,
 * examples, `inputs` and `context` (keys: slots), `{"b64": ...}` and the body itself
 * (instances, inputs, examples, context, signature_name).
 */
import { invalidArgument } from './tfs-error.ts';

/** Keys allowed beyond the slot count, in one object and in distinct names (API keys, repeated keys). */
export const KEY_MARGIN = 16;

/**
 * Deepest nesting of arrays and objects a body may have. A valid request needs at most 5 levels
 * (body, columns or instances, an instance, a slot's list, `{"b64": ...}`); V8's JSON.parse takes
 * ~2 s on an 8 MB body of 4 million nested arrays (a flat one of the same size: 0.15 s), which
 * TF Serving's iterative parser does not, so deeper bodies are refused before parsing.
 */
export const MAX_DEPTH = 64;

/** Slots assumed while no version is loaded (the request then gets 503 after parsing). */
export const UNLOADED_SLOTS = 1024;

const QUOTE = 34,
  BACKSLASH = 92,
  COLON = 58,
  OPEN = 123,
  CLOSE = 125,
  OPEN_LIST = 91,
  CLOSE_LIST = 93;

/** True for JSON whitespace (space, tab, CR, LF). */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Counts the keys of every object of `text` (a JSON text; anything else is left to the parser)
 * and the distinct key names, in one pass without allocating per key (names are hashed, FNV-1a
 * 32 bits: a collision can only let a body through, as the parser's checks then refuse it).
 * A body of at most slots + KEY_MARGIN keys in all cannot name more distinct ones, so names are
 * hashed only once the count passes that (the pass then starts again, hashing): a body of one
 * instance is not hashed at all (bench/serve-speed.ts at 1 instance per request).
 * Cost on a valid body: about a tenth of JSON.parse's (10,000 Criteo instances, 5.2 MB: 69 ms
 * against 690 ms, on a 2-core machine at load average 11); a refused one stops where the limit is passed.
 * @param text the request body.
 * @param slots the model's slots (named inputs): at most slots + KEY_MARGIN keys in an object and
 *   distinct names in the body.
 * @returns text (for a parser hook: `done(null, checkKeyCounts(body, slots))`).
 * Also refuses a body nested deeper than MAX_DEPTH arrays and objects.
 * @throws TfsError 400 (INVALID_ARGUMENT) naming the byte offset where the limit was passed.
 */
export function checkKeyCounts(text: string, slots: number): string {
  if (!countKeys(text, slots, false)) countKeys(text, slots, true);
  return text;
}

/**
 * One pass of checkKeyCounts: counts keys per object, and distinct names when `hashing`.
 * @returns false when not `hashing` and the body holds more than slots + KEY_MARGIN keys in all
 *   (its distinct names are then to be counted: a pass with `hashing`); true when the body passes.
 * @throws TfsError as checkKeyCounts.
 */
function countKeys(text: string, slots: number, hashing: boolean): boolean {
  const max = slots + KEY_MARGIN,
    n = text.length,
    open: number[] = [],
    starts: number[] = [],
    seen = new Set<number>();
  let i = 0,
    keys = 0,
    depth = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // the string's end: the next quote not escaped by an odd run of backslashes
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return true; // unterminated: the parser says so
        let b = 0;
        while (text.charCodeAt(j - 1 - b) === BACKSLASH) b++;
        if ((b & 1) === 0) break;
      }
      let k = j + 1;
      while (k < n && isSpace(text.charCodeAt(k))) k++;
      if (k < n && text.charCodeAt(k) === COLON && open.length > 0) {
        const top = open.length - 1;
        if (++open[top] > max)
          throw invalidArgument(
            `JSON object: has more than ${max} keys (object at byte ${starts[top]}), but the model has ${slots} ` +
              'named inputs',
            'body',
          );
        if (!hashing && ++keys > max) return false;
        if (hashing) {
          let h = 0x811c9dc5 ^ (j - i);
          for (let p = i + 1; p < j; p++) h = Math.imul(h ^ text.charCodeAt(p), 0x01000193);
          if (!seen.has(h)) {
            seen.add(h);
            if (seen.size > max)
              throw invalidArgument(
                `JSON object: the request names more than ${max} distinct keys (at byte ${i}: ` +
                  `${text.slice(i, Math.min(j + 1, i + 40))}), but the model has ${slots} named inputs`,
                'body',
              );
          }
        }
      }
      i = j + 1;
    } else {
      if (c === OPEN || c === OPEN_LIST) {
        if (++depth > MAX_DEPTH)
          throw invalidArgument(
            `JSON body: nested deeper than ${MAX_DEPTH} arrays and objects (at byte ${i}); a request needs at most 5`,
            'body',
          );
        if (c === OPEN) {
          open.push(0);
          starts.push(i);
        }
      } else if (c === CLOSE || c === CLOSE_LIST) {
        depth--;
        if (c === CLOSE) {
          open.pop();
          starts.pop();
        }
      }
      i++;
    }
  }
  return true;
}

/**
 * The slot count checkKeyCounts takes for a server: the served version's (categorical + numeric
 * slots), UNLOADED_SLOTS while none is loaded. Versions other than the default one (labels,
 * keepVersions) are assumed to have as many.
 */
export const slotCount = (
  served: { featurizer: { schema: { categorical: unknown[]; numeric: unknown[] } } } | undefined,
) => (served ? served.featurizer.schema.categorical.length + served.featurizer.schema.numeric.length : UNLOADED_SLOTS);
