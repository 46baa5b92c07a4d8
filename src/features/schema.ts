import { LionctrError } from '../errors.ts';
import { RESERVED_SLOT_NAMES } from './columns.ts';

/**
 * The feature schema: which slots exist and how wide their embedding rows are.
 * Embedding slots are the categorical slots followed by the numeric slots (each numeric
 * slot is also embedded through its Criteo bucket, see numeric.ts). F = number of
 * embedding slots, N = number of numeric slots.
 */
export interface FeatureSchema {
  numeric: string[];
  categorical: string[];
  /** Embedding dim D of every slot unless overridden in `dims`. */
  embeddingDim: number;
  /** Per-slot embedding dim overrides. */
  dims?: Record<string, number>;
}

/** Embedding slots in model order: categorical, then numeric (bucketized). */
export function embeddingSlots(s: FeatureSchema): string[] {
  return [...s.categorical, ...s.numeric];
}

/** Embedding dim of each embedding slot, in embeddingSlots order. */
export function slotDims(s: FeatureSchema): number[] {
  return embeddingSlots(s).map((slot) => s.dims?.[slot] ?? s.embeddingDim);
}

/**
 * Checks names are unique, not reserved (RESERVED_SLOT_NAMES of columns.ts) and dims positive integers.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the offending slot.
 */
export function validateSchema(s: FeatureSchema): void {
  const seen = new Set<string>();
  for (const slot of [...s.numeric, ...s.categorical]) {
    if (seen.has(slot))
      throw new LionctrError('LIONCTR_BAD_CONFIG', `slot "${slot}" is declared twice`, { where: 'schema' });
    if (RESERVED_SLOT_NAMES.includes(slot)) {
      throw new LionctrError('LIONCTR_BAD_CONFIG', `slot name "${slot}" is reserved`, { where: 'schema' });
    }
    seen.add(slot);
  }
  if (!Number.isInteger(s.embeddingDim) || s.embeddingDim < 1 || s.embeddingDim > 1024) {
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `the embedding dim must be an integer in 1..1024, got ${s.embeddingDim}`,
      { where: 'schema.embeddingDim' },
    );
  }
  for (const [slot, d] of Object.entries(s.dims ?? {})) {
    if (!seen.has(slot))
      throw new LionctrError('LIONCTR_BAD_CONFIG', `schema.dims names slot "${slot}", which the schema does not have`, {
        where: `schema.dims.${slot}`,
      });
    if (!Number.isInteger(d) || d < 1 || d > 1024) {
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `embedding dim of "${slot}" must be an integer in 1..1024, got ${d}`,
        { where: `schema.dims.${slot}` },
      );
    }
  }
}

/** Number of numeric slots of Criteo (I1..I13). */
export const CRITEO_NUMERIC = 13;
/** Number of categorical slots of Criteo (C1..C26). */
export const CRITEO_CATEGORICAL = 26;

/**
 * Criteo's slots, owned here (the config default, the Criteo decoder and the synthetic
 * source use this list): I1..I13 numeric, C1..C26 categorical; a fresh object each call.
 */
export function criteoSlots(): { numeric: string[]; categorical: string[] } {
  return {
    numeric: Array.from({ length: CRITEO_NUMERIC }, (_, i) => `I${i + 1}`),
    categorical: Array.from({ length: CRITEO_CATEGORICAL }, (_, i) => `C${i + 1}`),
  };
}
