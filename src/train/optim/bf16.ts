/**
 * bfloat16 storage: the top 16 bits of an IEEE float32. f32 -> bf16 rounds to nearest,
 * ties to even (NaN stays NaN); bf16 -> f32 is exact. Used for Lion momentum, where only
 * sign(beta1 * m + (1 - beta1) * g) matters (DESIGN.md "Lion, sparse-aware").
 * @module
 */

/** Scratch for reinterpreting a float32 as its bits (one element, shared). */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bits (0..65535) of x, round-to-nearest-even. */
export function toBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40; // quiet NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 value of bf16 bits. */
export function fromBf16(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}
