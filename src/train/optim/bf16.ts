/**
 * bfloat16 storage of Lion momentum: the top 16 bits of an IEEE float32. f32 -> bf16 rounds to
 * nearest, ties to even (NaN stays NaN); bf16 -> f32 is exact. Only sign(beta1 * m + (1 - beta1) * g)
 * matters to Lion (DESIGN.md "Lion, sparse-aware"). One rounding for momentum and for exports:
 * the functions are src/model/weight-dtype.ts's.
 * @module
 */
export { fromBf16, toBf16 } from '../../model/weight-dtype.ts';
