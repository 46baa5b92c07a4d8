/**
 * The storage type of the row weights an export writes (`export.weightDtype`; issue 12
 * "Compact rows"): float32 (4 bytes a weight, as trained), float16 or bfloat16 (2 bytes).
 * Training always keeps float32; only the files are narrower. In an embedding table
 * (export-format.ts) the vector items are Arrow Float32, Float16 (IEEE 754 binary16, which
 * pyarrow reads natively), or Uint16 holding bfloat16 bits (Arrow has no bfloat16 type: the
 * manifest's `weight_dtype` says how to read them; bf16 -> f32 is `bits << 16`).
 *
 * Rounding from float32 is round-to-nearest, ties to even, for both (IEEE 754 default):
 *   float16:  11 significant bits, exponent -14..15; |x| >= 65520 overflows to +-Infinity,
 *             below 2^-14 subnormal (steps of 2^-24), below 2^-25 (or at it: a tie) to +-0;
 *   bfloat16: the top 16 bits of the float32 (8 significant bits, float32's exponent range).
 * NaN stays NaN (quiet). Widening back to float32 is exact for both.
 * @module
 */
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';

/** The storage types of exported row weights. */
export const WEIGHT_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];

/** Bytes a weight takes in an export file. */
export const weightBytes = (d: WeightDtype): number => (d === 'float32' ? 4 : 2);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits (0..65535) of x (rounded to float32 first, as stored), round-to-nearest-even. */
export function toF16(x: number): number {
  f32[0] = x;
  const b = u32[0],
    sign = (b >>> 16) & 0x8000,
    e = (b >>> 23) & 0xff,
    m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m !== 0 ? 0x200 | (m >>> 13) : 0);
  const E = e - 112; // float16's biased exponent (127 - 15 = 112)
  if (E >= 31) return sign | 0x7c00;
  if (E <= 0) {
    // subnormal: round(m24 * 2^(e - 126)) units of 2^-24, i.e. m24 shifted right by s
    const s = 126 - e;
    if (s > 24) return sign;
    const m24 = m | 0x800000,
      q = m24 >>> s,
      rem = m24 & ((1 << s) - 1),
      half = 1 << (s - 1);
    return sign | (q + (rem > half || (rem === half && (q & 1) === 1) ? 1 : 0));
  }
  const q = (E << 10) | (m >>> 13),
    rem = m & 0x1fff;
  // a carry out of the mantissa moves to the next exponent (to Infinity from 65504 up)
  return sign | (q + (rem > 0x1000 || (rem === 0x1000 && (q & 1) === 1) ? 1 : 0));
}

/** The value of float16 bits (exact). */
export function fromF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >>> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Number.POSITIVE_INFINITY : Number.NaN;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** bfloat16 bits (0..65535) of x (rounded to float32 first), round-to-nearest-even; NaN stays a quiet NaN. */
export function toBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value of bfloat16 bits (exact). */
export function fromBf16(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/**
 * `values` [n] as stored in `dtype`: the array itself for float32, else a new Uint16Array of
 * the rounded bits.
 */
export function encodeWeights(values: Float32Array, dtype: WeightDtype): Float32Array | Uint16Array {
  if (dtype === 'float32') return values;
  const out = new Uint16Array(values.length),
    enc = dtype === 'float16' ? toF16 : toBf16;
  for (let i = 0; i < values.length; i++) out[i] = enc(values[i]);
  return out;
}

/**
 * Stored weights [n] widened to float32 (exact) into `out` (a new array when absent).
 * @param stored float32 values (dtype float32) or 16-bit patterns (float16, bfloat16).
 */
export function decodeWeights(
  stored: Float32Array | Uint16Array,
  dtype: WeightDtype,
  out = new Float32Array(stored.length),
): Float32Array {
  if (dtype === 'float32') {
    out.set(stored);
    return out;
  }
  if (dtype === 'bfloat16') {
    // bits << 16 as uint32 words: the float32 pattern itself
    const w = new Uint32Array(out.buffer, out.byteOffset, stored.length);
    for (let i = 0; i < stored.length; i++) w[i] = stored[i] << 16;
    return out;
  }
  for (let i = 0; i < stored.length; i++) out[i] = fromF16(stored[i]);
  return out;
}

/** The Arrow type of a vector item stored as `dtype`. */
export function arrowItemType(dtype: WeightDtype): arrow.Float32 | arrow.Float16 | arrow.Uint16 {
  return dtype === 'float32' ? new arrow.Float32() : dtype === 'float16' ? new arrow.Float16() : new arrow.Uint16();
}

/** Whether an Arrow item type is the one `dtype` is stored as (arrowItemType). */
export function isItemTypeOf(type: arrow.DataType, dtype: WeightDtype): boolean {
  if (dtype === 'float32') return arrow.DataType.isFloat(type) && type.precision === arrow.Precision.SINGLE;
  if (dtype === 'float16') return arrow.DataType.isFloat(type) && type.precision === arrow.Precision.HALF;
  return arrow.DataType.isInt(type) && type.bitWidth === 16 && !type.isSigned;
}

/**
 * The weight dtype a manifest's `weight_dtype` names; float32 when absent (exports written
 * before it existed).
 * @throws LionctrError LIONCTR_BAD_EXPORT (where = `where`) for any other value.
 */
export function parseWeightDtype(v: unknown, where: string): WeightDtype {
  if (v === undefined) return 'float32';
  if (typeof v === 'string' && (WEIGHT_DTYPES as readonly string[]).includes(v)) return v as WeightDtype;
  throw new LionctrError(
    'LIONCTR_BAD_EXPORT',
    `weight_dtype ${JSON.stringify(v)} is none of ${WEIGHT_DTYPES.join(', ')}`,
    {
      where,
    },
  );
}
