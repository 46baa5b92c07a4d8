/**
 * The lexical pieces of the predict fast path's body scan (./json-fast.ts): JSON whitespace,
 * string ends (no escapes), number ends by JSON's grammar (RFC 8259 section 6) and a scanned
 * number's value as JSON.parse gives it. Index-based over the body text, no allocation. (No
 * closures in these hot functions: tsx, which runs lionctr, names each one as it is made.)
 * @module
 */
/** Index after the JSON whitespace at i. */
export function ws(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
}

/** Index of the closing quote of the string whose first char is at i; -1 on an escape or control char. */
export function stringEnd(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92 || c < 32 || Number.isNaN(c)) return -1;
    i++;
  }
}

/** Index after the decimal digits at i. */
export function digits(t: string, i: number): number {
  let k = i;
  for (let c = t.charCodeAt(k); c >= 48 && c <= 57; c = t.charCodeAt(++k));
  return k;
}

/** Index after the JSON number at i (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?); -1 when there is none. */
export function numberEnd(t: string, i: number): number {
  if (t.charCodeAt(i) === 45) i++;
  const c0 = t.charCodeAt(i);
  if (c0 === 48) i++;
  else if (c0 >= 49 && c0 <= 57) i = digits(t, i);
  else return -1;
  if (t.charCodeAt(i) === 46) {
    const j = digits(t, i + 1);
    if (j === i + 1) return -1;
    i = j;
  }
  const e = t.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    const s = t.charCodeAt(j);
    if (s === 43 || s === 45) j++;
    const k = digits(t, j);
    if (k === j) return -1;
    i = k;
  }
  return i;
}

/** The value of a scanned number, as JSON.parse gives it (small integers without a string). */
export function numberAt(t: string, s: number, e: number): number {
  if (e - s <= 9) {
    let v = 0,
      k = s;
    const neg = t.charCodeAt(k) === 45;
    if (neg) k++;
    for (; k < e; k++) {
      const c = t.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return Number(t.slice(s, e));
      v = v * 10 + c;
    }
    return neg ? -v : v;
  }
  return Number(t.slice(s, e));
}
