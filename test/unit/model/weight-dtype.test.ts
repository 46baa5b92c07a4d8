/**
 * export.weightDtype's conversions (src/model/weight-dtype.ts): float32 -> float16 and
 * bfloat16, round-to-nearest-even, bit for bit against two independent references: a float64
 * re-derivation (the nearest of the two neighbouring representable values, found by distance,
 * not by bit arithmetic; ties to the even pattern) and, when a Python with numpy is at hand
 * (LIONCTR_PYTHON or /work/main/.venv-py), numpy's float32 -> float16 cast. Edge cases: the
 * largest float16 and the overflow threshold 65520, the subnormal range and its ties, signed
 * zeros, infinities, NaN; plus 200,000 random float32 bit patterns over every exponent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeWeights,
  encodeWeights,
  fromBf16,
  fromF16,
  parseWeightDtype,
  toBf16,
  toF16,
} from '../../../src/model/weight-dtype.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => {
  f32[0] = x;
  return u32[0];
};
const floatOfBits = (b: number) => {
  u32[0] = b >>> 0;
  return f32[0];
};

/** Every finite non-negative float16 value, ascending, with its bits (0x0000..0x7bff, then 65536 for the overflow). */
const F16_VALUES: number[] = [];
for (let h = 0; h <= 0x7bff; h++) {
  const e = h >> 10,
    m = h & 0x3ff;
  F16_VALUES.push(e === 0 ? m / 2 ** 24 : (1 + m / 1024) * 2 ** (e - 15));
}

/** float64 reference of float32 -> float16 bits: nearest of the table's neighbours, ties to even bits. */
function refF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65536 stands for the first value past the largest finite (2^16): rounding to it overflows
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0,
    hi = F16_VALUES.length - 1;
  if (a >= F16_VALUES[hi]) {
    const dLo = a - F16_VALUES[hi],
      dHi = 65536 - a;
    return sign | (dLo < dHi ? hi : dLo > dHi ? 0x7c00 : hi % 2 === 0 ? hi : 0x7c00);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (F16_VALUES[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - F16_VALUES[lo],
    dHi = F16_VALUES[hi] - a;
  return sign | (dLo < dHi ? lo : dLo > dHi ? hi : lo % 2 === 0 ? lo : hi);
}

/** float64 reference of float32 -> bfloat16 bits: the nearer of the truncation and the next pattern up. */
function refBf16(x: number): number {
  const b = bitsOf(x);
  if (Number.isNaN(x)) return (b >>> 16) | 0x40;
  if (!Number.isFinite(x)) return b >>> 16;
  const t = (b >>> 16) & 0xffff,
    down = floatOfBits(t << 16),
    up = t === 0x7f7f || t === 0xff7f ? Math.sign(x) * 2 ** 128 : floatOfBits((t + 1) << 16);
  const dDown = Math.abs(x - down),
    dUp = Math.abs(up - x);
  return dDown < dUp ? t : dDown > dUp ? t + 1 : t % 2 === 0 ? t : t + 1;
}

const EDGES = [
  0,
  -0,
  1,
  -1,
  65504,
  -65504,
  65519.99,
  65520,
  -65520,
  65535,
  65536,
  1e6,
  3.4e38,
  2 ** -14,
  2 ** -14 * (1 - 2 ** -11),
  2 ** -24,
  2 ** -25,
  2 ** -25 * (1 + 2 ** -20),
  -(2 ** -25),
  3 * 2 ** -25,
  5 * 2 ** -25,
  2 ** -26,
  1e-45,
  1e-38,
  2 ** -24 * 1.5,
  2 ** -24 * 2.5,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  0.1,
  -0.3333,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  3.3895314e38,
  3.4028235e38,
].map((x) => Math.fround(x));

/** Random float32s over every exponent (uniform bit patterns, NaNs kept), deterministic. */
function randomFloats(n: number): Float32Array {
  const out = new Float32Array(n),
    w = new Uint32Array(out.buffer);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = s ^ (s << 7);
  }
  return out;
}

describe('export.weightDtype conversions', () => {
  const all = new Float32Array([...EDGES, ...randomFloats(200_000)]);

  it('float16: every edge case and 200,000 random float32s as the float64 re-derivation rounds them', () => {
    const bad = [];
    for (const x of all)
      if (Number.isNaN(x) ? !Number.isNaN(fromF16(toF16(x))) : toF16(x) !== refF16(x))
        bad.push([x, toF16(x), refF16(x)]);
    expect(bad.slice(0, 5)).toEqual([]);
    expect(toF16(65504)).toBe(0x7bff);
    expect(toF16(65519.99)).toBe(0x7bff);
    expect(toF16(65520)).toBe(0x7c00); // the tie past the largest finite goes to even: infinity
    expect(toF16(2 ** -25)).toBe(0); // half the smallest subnormal: a tie, to even (zero)
    expect(toF16(3 * 2 ** -25)).toBe(2); // 1.5 units: a tie, to even (2)
    expect(toF16(-0)).toBe(0x8000);
  });

  it('bfloat16: every edge case and 200,000 random float32s as the float64 re-derivation rounds them', () => {
    const bad = [];
    for (const x of all) if (toBf16(x) !== refBf16(x)) bad.push([x, toBf16(x), refBf16(x)]);
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('widening back is exact, and decodeWeights(encodeWeights(v)) is the rounding of v', () => {
    for (let h = 0; h < 65536; h++) {
      const v = fromF16(h);
      if (!Number.isNaN(v)) expect(toF16(v)).toBe(h);
      const b = fromBf16(h);
      if (!Number.isNaN(b)) expect(toBf16(b)).toBe(h);
    }
    const v = randomFloats(10_000);
    for (const d of ['float16', 'bfloat16'] as const) {
      const back = decodeWeights(encodeWeights(v, d), d);
      const from = d === 'float16' ? fromF16 : fromBf16,
        to = d === 'float16' ? toF16 : toBf16;
      for (let i = 0; i < v.length; i++)
        expect(Object.is(back[i], Math.fround(from(to(v[i])))) || Number.isNaN(back[i])).toBe(true);
    }
    expect(encodeWeights(v, 'float32')).toBe(v);
  });

  const python = [process.env.LIONCTR_PYTHON, '/work/main/.venv-py/bin/python'].find((p) => p && existsSync(p));
  it.skipIf(!python)('float16: the same bits as numpy float32 -> float16 on every case', () => {
    const bytes = Buffer.from(all.buffer).toString('base64');
    const code =
      'import sys,base64,numpy as np;' +
      'a=np.frombuffer(base64.b64decode(sys.stdin.read()),dtype="<f4");' +
      'sys.stdout.write(base64.b64encode(a.astype(np.float16).view("<u2").tobytes()).decode())';
    const out = execFileSync(python!, ['-W', 'ignore', '-c', code], { input: bytes, maxBuffer: 1 << 26 });
    const np16 = new Uint16Array(new Uint8Array(Buffer.from(out.toString(), 'base64')).buffer);
    expect(np16.length).toBe(all.length);
    let diff = 0;
    for (let i = 0; i < all.length; i++) {
      // NaN payloads differ between implementations: any NaN matches any NaN
      const nan = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (nan(np16[i]) ? !nan(toF16(all[i])) : np16[i] !== toF16(all[i])) diff++;
    }
    expect(diff).toBe(0);
  });
});

describe('weight_dtype in manifests', () => {
  it('absent reads as float32; the three dtypes are accepted, anything else refused', () => {
    expect(parseWeightDtype(undefined, 'm.json')).toBe('float32');
    for (const d of ['float32', 'float16', 'bfloat16']) expect(parseWeightDtype(d, 'm.json')).toBe(d);
    for (const bad of ['int8', 'Float16', 16, null])
      expect(() => parseWeightDtype(bad, 'm.json')).toThrow(/weight_dtype .* is none of float32, float16, bfloat16/);
  });
});
