/**
 * The Redis keys of embedding rows and their Redis Cluster hash slots (row-access.ts's module doc:
 * `<prefix>:<slot>:<id as 16 hex digits>`, no hash tag, so that rows spread over the cluster's
 * 16384 hash slots). The hash slot is Redis Cluster's own: CRC16/XMODEM of the key, or of its hash
 * tag (the part between the first `{` and the next `}`, when not empty), mod 16384 (Redis Cluster
 * specification, "Key distribution model"; the test checks it against `CLUSTER KEYSLOT`).
 * @module
 */

/** Hash slots of a Redis Cluster. */
export const HASH_SLOTS = 16384;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC16/XMODEM (polynomial 0x1021, init 0) of bytes [from, to) of `b`. */
function crc16(b: ArrayLike<number>, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = ((c << 8) & 0xffff) ^ CRC16_TABLE[((c >> 8) ^ b[i]) & 0xff];
  return c;
}

/** The char codes of an ASCII string (its UTF-8 bytes), or null when it has other characters. */
function asciiCodes(s: string, into: Uint8Array): Uint8Array | null {
  const b = s.length <= into.length ? into.subarray(0, s.length) : new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return null;
    b[i] = c;
  }
  return b;
}
const scratch = new Uint8Array(256);

/**
 * The Redis Cluster hash slot (0..16383) of a key, as bytes or as a string (its UTF-8 bytes), of
 * its hash tag when it has one.
 */
export function keySlot(key: Uint8Array | string): number {
  const b = typeof key === 'string' ? (asciiCodes(key, scratch) ?? Buffer.from(key)) : key;
  const open = b.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = b.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(b, open + 1, close) % HASH_SLOTS;
  }
  return crc16(b, 0, b.length) % HASH_SLOTS;
}

const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');

/** The key of row (hi, lo) of feature slot `slot` under `prefix`: `prefix:slot:hhhhhhhhllllllll`. */
export function rowKey(prefix: string, slot: string, hi: number, lo: number): string {
  return `${prefix}:${slot}:${hex8(hi)}${hex8(lo)}`;
}
