/**
 * A response body already written as JSON text: the scoring routes' answers, a list of finite
 * numbers under one key, written without JSON.stringify walking an object (the server sends the
 * text as it is, with content-type application/json).
 */

/** A JSON text to send as it is. */
export class JsonText {
  constructor(readonly text: string) {}

  /** The body as a value (tests, and callers that want the object). */
  value(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * `{"<key>":[x0,x1,...]}` as JSON.stringify writes it, for finite numbers `xs`: a finite number's
 * JSON is its String() (ECMA-262 Number::toString in both; -0 is written 0).
 * @param key a key that needs no escaping (predictions, outputs, results).
 */
export function numbersUnder(key: string, xs: ArrayLike<number>): JsonText {
  let s = `{"${key}":[`;
  for (let i = 0; i < xs.length; i++) s += i === 0 ? String(xs[i]) : `,${xs[i]}`;
  return new JsonText(`${s}]}`);
}
