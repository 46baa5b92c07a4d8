/**
 * @module The slices of one slot for progressive validation (train.progressive.sliceSlots): the first
 * `maxSlices` distinct values the trainer scores get a slice each, in the order first seen; every
 * later value goes to the slice `other`. A value is known by its feature id, the 64-bit hash the
 * featurizer already computed for the batch (FeatureBatch idHi / idLo), so an example costs one Map
 * lookup and no string; the raw value is read from the Arrow column once, when it gets its slice,
 * as the slice's name (`missing` for a null or empty value; a raw value spelled `other` or `missing`
 * is named with quotes, `"other"`, so that it never merges with those buckets).
 */
import { LionctrError } from '../../errors.ts';
import { embeddingSlots, type FeatureSchema } from '../../features/schema.ts';

/** The columns of a batch's rows by name (an Arrow RecordBatch). */
export interface ColumnSource {
  getChild(name: string): { get(row: number): unknown } | null;
}

/** Most slices per slot (slice indices are bytes: maxSlices values + `other`). */
export const MAX_SLICES = 254;

/** The slice name of a raw value (see the module doc). */
export function sliceName(raw: unknown): string {
  if (raw === null || raw === undefined || raw === '') return 'missing';
  const s = String(raw);
  return s === 'other' || s === 'missing' ? `"${s}"` : s;
}

/** The slices of one slot: value id -> slice index (0 .. max-1), `other` = max. */
export class SliceKeys {
  readonly slot: string;
  /** The slot's column in FeatureBatch idHi / idLo (its index among the embedding slots). */
  readonly column: number;
  readonly max: number;
  /** Slice names by index; `other` last once used. */
  readonly names: string[] = [];
  private readonly byHi = new Map<number, number>();
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  constructor(slot: string, column: number, max: number) {
    this.slot = slot;
    this.column = column;
    this.max = max;
  }

  /** Index of `other`. */
  get other(): number {
    return this.max;
  }

  /**
   * The slice of the value with id (hi, lo) at `row` of `rows` (read for its name when the value is
   * new and a slice is free). O(1): one Map lookup (a second id with the same high word, chance
   * 2^-32 per pair, is found by a scan of the <= max ids).
   */
  indexOf(hi: number, lo: number, rows: ColumnSource | undefined, row: number): number {
    const i = this.byHi.get(hi);
    if (i !== undefined && this.lo[i] === lo) return i;
    if (i !== undefined) for (let k = 0; k < this.hi.length; k++) if (this.hi[k] === hi && this.lo[k] === lo) return k;
    if (this.hi.length >= this.max) return this.max;
    const k = this.hi.length;
    this.hi.push(hi);
    this.lo.push(lo);
    if (i === undefined) this.byHi.set(hi, k);
    this.names.push(sliceName(rows?.getChild(this.slot)?.get(row)));
    return k;
  }

  /** The name of slice `i`. */
  nameOf(i: number): string {
    return i === this.max ? 'other' : this.names[i];
  }
}

/**
 * The SliceKeys of `slots` in `schema`, at most `maxSlices` values each.
 * @throws LionctrError LIONCTR_BAD_CONFIG (where train.progressive.sliceSlots) for a slot that is not a
 *   categorical slot of the schema, a slot named twice, or maxSlices outside 1..MAX_SLICES.
 */
export function sliceKeysOf(slots: readonly string[], maxSlices: number, schema: FeatureSchema): SliceKeys[] {
  const where = 'train.progressive.sliceSlots';
  if (!(Number.isInteger(maxSlices) && maxSlices >= 1 && maxSlices <= MAX_SLICES))
    throw new LionctrError('LIONCTR_BAD_CONFIG', `maxSlices must be an integer in 1..${MAX_SLICES}`, {
      where: 'train.progressive.maxSlices',
    });
  const columns = embeddingSlots(schema);
  return slots.map((slot, i) => {
    if (slots.indexOf(slot) !== i) throw new LionctrError('LIONCTR_BAD_CONFIG', `slot ${slot} named twice`, { where });
    if (!schema.categorical.includes(slot))
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `"${slot}" is not a categorical slot of the schema (one of ${schema.categorical.join(', ')})`,
        { where },
      );
    return new SliceKeys(slot, columns.indexOf(slot), maxSlices);
  });
}
