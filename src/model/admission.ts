/**
 * Feature admission of one embedding slot (config `model.admission.*`): whether an id not yet
 * in the table gets a row while training. An id must be seen `minCount` times (counted in a
 * count-min sketch of bounded size) and then pass an admission trial of probability
 * `probability`; both are deterministic functions of (seed, slot, id, count, step), so a
 * replay of the same stream admits the same rows. @module
 */
import { LionctrError } from '../errors.ts';
import { fmix32 } from '../features/mix32.ts';

/** Settings of `model.admission` (see src/model/config.ts). */
export interface AdmissionConfig {
  /** Sightings of an id before it gets a row, 1..255; 1 = admit on first sight (off). */
  minCount: number;
  /** Chance that a sighting at or past minCount admits the id, in (0, 1]; 1 = always. */
  probability: number;
  /** Bytes of the count-min sketch of each slot (one byte per counter, 4 rows). */
  sketchBytes: number;
  /**
   * Sightings counted in a slot's sketch (training lookups of ids without a row) after which
   * every counter is halved (the TinyLFU reset): an id must reach minCount within about that
   * many. 0 or absent: 10 x the counters of a sketch row.
   */
  halveEvery?: number;
}

/** Admission off: every id gets a row on first sight (what training did before admission existed). */
export const ADMIT_ALL: AdmissionConfig = { minCount: 1, probability: 1, sketchBytes: 1 << 20 };

/** Rows of the count-min sketch (independent hash functions, Cormode & Muthukrishnan 2005). */
export const SKETCH_DEPTH = 4;

/**
 * The admission gate of one slot. Its sketch (when minCount > 1) is a count-min sketch with
 * SKETCH_DEPTH rows of `width` saturating 8-bit counters and conservative update (Estan &
 * Varghese 2002: only the counters at the minimum are raised), so a count is over-estimated
 * by the collisions only, never under-estimated. Row i's counter of an id is
 * (h1 + i h2) mod width (Kirsch & Mitzenmacher 2006), h1 and h2 32-bit hashes of
 * (seed, slot, id). Every `halveEvery` sightings all counters are halved (Einziger et al.
 * 2017, TinyLFU's reset), so that on a stream without end the counts stay those of a recent
 * window instead of filling up.
 */
export class AdmissionGate {
  readonly slot: string;
  readonly minCount: number;
  readonly probability: number;
  /** Counters per sketch row (a multiple of 4); 0 without a sketch. */
  readonly width: number;
  /**
   * [SKETCH_DEPTH, width] counters; null when minCount is 1 (nothing to count) or until the first
   * training sighting (a model that only serves holds none).
   */
  counts: Uint8Array | null = null;
  /** Sightings between two halvings of the counters. */
  readonly halveEvery: number;
  /** Sightings counted since the last halving (checkpointed with the counters). */
  sightings = 0;
  /** Rows made while training (every new row, whether the gate is active or not). */
  admitted = 0;
  /** Training lookups of an id refused a row (it read as the slot's zero default row). */
  rejected = 0;
  private readonly s1: number;
  private readonly s2: number;
  /** Probability as a 32-bit threshold: a trial passes when its hash is below it. */
  private readonly threshold: number;

  /**
   * @param seed the model seed (model.seed).
   * @throws LionctrError LIONCTR_BAD_CONFIG when minCount is not in 1..255, probability not in
   *   (0, 1], sketchBytes below 4 * SKETCH_DEPTH, or halveEvery not an integer >= 0.
   */
  constructor(slot: string, cfg: AdmissionConfig, seed: number) {
    const bad = (key: string, msg: string) =>
      new LionctrError('LIONCTR_BAD_CONFIG', `model.admission.${key} ${msg}`, { where: `model.admission.${key}` });
    if (!Number.isInteger(cfg.minCount) || cfg.minCount < 1 || cfg.minCount > 255)
      throw bad('minCount', `must be an integer in 1..255 (8-bit counters), got ${cfg.minCount}`);
    if (!(cfg.probability > 0 && cfg.probability <= 1))
      throw bad('probability', `must be in (0, 1], got ${cfg.probability}`);
    if (!(cfg.sketchBytes >= 4 * SKETCH_DEPTH))
      throw bad('sketchBytes', `must be at least ${4 * SKETCH_DEPTH}, got ${cfg.sketchBytes}`);
    if (cfg.halveEvery !== undefined && !(Number.isInteger(cfg.halveEvery) && cfg.halveEvery >= 0))
      throw bad('halveEvery', `must be an integer >= 0, got ${cfg.halveEvery}`);
    this.slot = slot;
    this.minCount = cfg.minCount;
    this.probability = cfg.probability;
    this.threshold = Math.min(2 ** 32, Math.floor(cfg.probability * 2 ** 32));
    this.width = cfg.minCount > 1 ? Math.floor(cfg.sketchBytes / SKETCH_DEPTH / 4) * 4 : 0;
    this.halveEvery = cfg.halveEvery || 10 * this.width;
    const s = fmix32(seed ^ fnv1a(slot));
    this.s1 = s;
    this.s2 = fmix32(s ^ 0x5bd1e995);
  }

  /** True when some id may be refused a row (minCount > 1 or probability < 1). */
  get active(): boolean {
    return this.minCount > 1 || this.probability < 1;
  }

  /** Bytes of the sketch (0 until the first training sighting). */
  get bytes(): number {
    return this.counts?.byteLength ?? 0;
  }

  /**
   * Counts one training sighting of id (hi, lo), which has no row, and says whether it gets
   * one now: its count (after this sighting) reached minCount and the trial of
   * hash(seed, slot, id, count, step) passed. Counts a refusal in `rejected`.
   * @param step the training step (part of the trial's hash, so a replay decides the same).
   */
  admit(hi: number, lo: number, step: number): boolean {
    const h1 = fmix32(fmix32(this.s1 ^ hi) ^ lo);
    let count = 0;
    if (this.width && !this.counts) this.counts = new Uint8Array(SKETCH_DEPTH * this.width);
    const c = this.counts;
    if (c) {
      const W = this.width,
        h2 = fmix32(fmix32(this.s2 ^ lo) ^ hi) | 1;
      let m = 255;
      for (let i = 0; i < SKETCH_DEPTH; i++) m = Math.min(m, c[i * W + (((h1 + Math.imul(i, h2)) >>> 0) % W)]);
      count = Math.min(255, m + 1);
      for (let i = 0; i < SKETCH_DEPTH; i++) {
        const k = i * W + (((h1 + Math.imul(i, h2)) >>> 0) % W);
        if (c[k] < count) c[k] = count;
      }
      if (++this.sightings >= this.halveEvery) {
        for (let k = 0; k < c.length; k++) c[k] >>>= 1;
        this.sightings = 0;
      }
      if (count < this.minCount) {
        this.rejected++;
        return false;
      }
    }
    if (this.threshold < 2 ** 32 && fmix32(fmix32(h1 ^ Math.imul(count, 0x27d4eb2f)) ^ step) >= this.threshold) {
      this.rejected++;
      return false;
    }
    return true;
  }

  /**
   * Sets the sketch's counters and sightings since the last halving (a checkpoint's).
   * @throws LionctrError LIONCTR_BAD_CHECKPOINT when the sizes differ.
   */
  restore(counts: Uint8Array, sightings: number): void {
    if (counts.length !== SKETCH_DEPTH * this.width) {
      throw new LionctrError(
        'LIONCTR_BAD_CHECKPOINT',
        `slot "${this.slot}": admission sketch of ${counts.length} bytes, model has ${SKETCH_DEPTH * this.width}`,
      );
    }
    this.counts = counts.slice();
    this.sightings = sightings;
  }
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units (the slot name). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
