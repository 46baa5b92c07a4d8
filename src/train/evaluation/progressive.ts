/**
 * @module Progressive validation (McMahan et al. 2013, "Ad Click Prediction: a View from the
 * Trenches", sec. 5.1): every example is scored before the model trains on it; these running
 * figures are the model's honest online quality, over two scopes: the window (the last `window`
 * examples) and the lifetime (every example since this trainer started or resumed), and per slice
 * of the slots in train.progressive.sliceSlots (./slice-keys.ts), both scopes again; a slice's
 * window is its share of the last `window` examples.
 *
 * Cost. Adding an example is O(1 + slots): its bin (./auc-bins.ts) and its terms go into the
 * accumulators (./stream-figures.ts), and the example leaving the window is taken out of them
 * from a ring buffer; every 16 windows the window's sums and bins are re-summed from the ring
 * (O(window + K), so O(1) per example), which bounds their rounding error by that of 32 windows'
 * adds and takes, whatever the run's length. Reading is O(K) per scope (AUC). Nothing is sorted.
 *
 * The corrected scale. A model trained on a log whose negatives were kept with probability r
 * (train.negativeRate < 1) predicts q on the sampled scale; the figures are of p = q / (q + (1 - q)
 * / r) (../../model/serving-rules.ts), each example weighted w = weight * (clicked ? 1 : 1 / r)
 * (sample weight: schema.weight, batch `weights`; a non-click stands for 1/r of the full log's), so
 * they estimate those of the un-downsampled stream (formulas: ./stream-figures.ts).
 *
 * Memory (stated, bounded): the ring holds 31 + S bytes per example (p, logloss term, Bayes
 * logloss term: float64; sample weight: float32; bin: uint16; label: uint8; one slice index per
 * sliced slot: uint8), so 3.1 MB at window 10^5, 31 MB at 10^6 (S = 0). Bin sums (float64):
 * K = 47,106 bins (bits 10) for the whole stream, 754 KB for the window + 754 KB for the lifetime;
 * K = 5,890 (bits 7) per slice, 188 KB per slice (both scopes), at most (maxSlices + 1) * 188 KB
 * per sliced slot, made when the slice is first seen (3.9 MB at maxSlices 20).
 */
import type { QualityFigures, SliceQuality } from '../../events/train-events.ts';
import { binning, binOf, coarsen } from './auc-bins.ts';
import { loglossTerm } from './binary-metrics.ts';
import { recalibrate } from '../../model/serving-rules.ts';
import type { FeatureSchema } from '../../features/schema.ts';
import { sliceKeysOf, type ColumnSource, type SliceKeys } from './slice-keys.ts';
import { NO_BIN, StreamFigures } from './stream-figures.ts';

/**
 * Binning of the whole stream (bins of logit width <= 0.0013; the bound measured ~8e-5 on a drifting
 * CTR stream of 10^6 examples, the actual error ~1e-7) and of each slice (width <= 0.0105).
 */
export const STREAM_BINNING = binning(10);
export const SLICE_BINNING = binning(7);

/** The window's sums are re-summed from the ring every RESUM_WRAPS windows (module doc). */
const RESUM_WRAPS = 16;

/** Ring slice index of an example added without feature ids (add(), not addBatch()). */
const UNSLICED = 255;

/** The rows a batch brings: labels, optional sample weights and true p, feature ids (for slices). */
export interface ScoredRows {
  size: number;
  /** [B] 0 or 1. */
  labels: ArrayLike<number>;
  /** [B] sample weights >= 0 (schema.weight); absent: 1. */
  weights?: ArrayLike<number>;
  /** [B] true click probability (synthetic source only). */
  bayesP?: ArrayLike<number>;
  /** [B, F] feature ids of the embedding slots (FeatureBatch idHi / idLo). */
  idHi: Uint32Array;
  idLo: Uint32Array;
}

/** The window and lifetime accumulators of one slice. */
interface SliceScopes {
  window: StreamFigures;
  lifetime: StreamFigures;
}

/** Window figures (compatible with the EvalFigures of binary-metrics.ts) and the window's fill. */
export type WindowFigures = QualityFigures & { window: number };

/** Progressive-validation figures over a sliding window, the lifetime and slices (module doc). */
export class ProgressiveMetrics {
  readonly window: number;
  private readonly p: Float64Array;
  private readonly ll: Float64Array;
  private readonly bayesLl: Float64Array;
  private readonly bin: Uint16Array;
  private readonly y: Uint8Array;
  /** [window] sample weights (float32: a batch's own type, so a weight is stored exactly). */
  private readonly sw: Float32Array;
  /** [window, S] slice index per sliced slot. */
  private readonly slice: Uint8Array;
  private head = 0;
  private filled = 0;
  /** Times the ring wrapped. */
  private wraps = 0;
  private readonly win = new StreamFigures(STREAM_BINNING);
  private readonly life = new StreamFigures(STREAM_BINNING);
  /** train.negativeRate r, and 1 / r: a non-click's weight factor. */
  readonly negativeRate: number;
  private readonly negWeight: number;
  private readonly keys: SliceKeys[];
  /** Per sliced slot, per slice index: its scopes (made at first use). */
  private readonly scopes: (SliceScopes | undefined)[][];
  /** Examples scored since start. */
  examples = 0;

  /**
   * @param window examples in the sliding window (e.g. 100,000; at most 2^32 - 1).
   * @param keys the slices of the sliced slots (./slice-keys.ts sliceKeysOf); none by default.
   * @param negativeRate train.negativeRate r in (0, 1]: the figures are on the full log's scale (module doc).
   */
  constructor(window = 100_000, keys: SliceKeys[] = [], negativeRate = 1) {
    this.window = window;
    this.negativeRate = negativeRate;
    this.negWeight = 1 / negativeRate;
    this.sw = new Float32Array(window);
    this.p = new Float64Array(window);
    this.ll = new Float64Array(window);
    this.bayesLl = new Float64Array(window);
    this.bin = new Uint16Array(window);
    this.y = new Uint8Array(window);
    this.keys = keys;
    this.slice = new Uint8Array(window * keys.length);
    this.scopes = keys.map(() => []);
  }

  /**
   * Adds a scored batch without slices: predictions made before training on it (the model's, on
   * the sampled scale), labels, optional true p, the first `n`, optional sample weights (>= 0).
   */
  add(
    pred: ArrayLike<number>,
    labels: ArrayLike<number>,
    bayesP?: ArrayLike<number>,
    n = pred.length,
    weights?: ArrayLike<number>,
  ): void {
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      this.addOne(pred[i], labels[i] > 0.5, bayesP ? bayesP[i] : NaN, w, null, undefined, i);
    }
  }

  /**
   * Adds the first `n` rows of a featurized batch with their predictions; each sliced slot's slice
   * comes from the row's feature id, a new slice's name from `rows` (the batch's Arrow columns).
   */
  addBatch(pred: ArrayLike<number>, batch: ScoredRows, rows?: ColumnSource, n = batch.size): void {
    const { labels, bayesP, weights } = batch;
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      this.addOne(pred[i], labels[i] > 0.5, bayesP ? bayesP[i] : NaN, w, batch, rows, i);
    }
  }

  /** An example's weight: its sample weight, times 1 / r for a non-click (module doc). */
  private weightOf = (sampleWeight: number, clicked: boolean): number =>
    clicked ? sampleWeight : sampleWeight * this.negWeight;

  /** Adds one example: `q` the model's prediction (sampled scale), `sampleWeight` its weight. */
  private addOne(
    q: number,
    clicked: boolean,
    bayesP: number,
    sampleWeight: number,
    ids: ScoredRows | null,
    rows: ColumnSource | undefined,
    i: number,
  ) {
    const h = this.head,
      S = this.keys.length;
    if (this.filled === this.window) this.takeOut(h);
    const p = recalibrate(q, this.negativeRate);
    this.sw[h] = sampleWeight;
    const w = this.weightOf(this.sw[h], clicked);
    const finite = Number.isFinite(p);
    const bin = finite ? binOf(p, STREAM_BINNING) : NO_BIN;
    const ll = finite ? loglossTerm(p, clicked) : 0;
    const bll = Number.isNaN(bayesP) ? NaN : loglossTerm(bayesP, clicked);
    this.p[h] = p;
    this.ll[h] = ll;
    this.bayesLl[h] = bll;
    this.bin[h] = bin;
    this.y[h] = clicked ? 1 : 0;
    this.win.update(1, bin, clicked, p, ll, bll, w);
    this.life.update(1, bin, clicked, p, ll, bll, w);
    if (S > 0) {
      const coarse = bin === NO_BIN ? NO_BIN : coarsen(bin, STREAM_BINNING, SLICE_BINNING);
      for (let s = 0; s < S; s++) {
        const k = this.keys[s];
        const at = i * (ids ? ids.idHi.length / ids.size : 0) + k.column;
        const idx = ids ? k.indexOf(ids.idHi[at], ids.idLo[at], rows, i) : UNSLICED;
        this.slice[h * S + s] = idx;
        if (idx === UNSLICED) continue;
        const sc = this.scopesOf(s, idx);
        sc.window.update(1, coarse, clicked, p, ll, bll, w);
        sc.lifetime.update(1, coarse, clicked, p, ll, bll, w);
      }
    }
    this.examples++;
    this.filled = Math.min(this.window, this.filled + 1);
    this.head = h + 1 === this.window ? 0 : h + 1;
    if (this.head === 0 && ++this.wraps % RESUM_WRAPS === 0) this.resum();
  }

  /** Takes the example at ring position h out of the window scopes. */
  private takeOut(h: number): void {
    const bin = this.bin[h],
      clicked = this.y[h] === 1,
      S = this.keys.length,
      w = this.weightOf(this.sw[h], clicked);
    this.win.update(-1, bin, clicked, this.p[h], this.ll[h], this.bayesLl[h], w);
    if (S === 0) return;
    const coarse = bin === NO_BIN ? NO_BIN : coarsen(bin, STREAM_BINNING, SLICE_BINNING);
    for (let s = 0; s < S; s++) {
      const idx = this.slice[h * S + s];
      if (idx !== UNSLICED)
        this.scopesOf(s, idx).window.update(-1, coarse, clicked, this.p[h], this.ll[h], this.bayesLl[h], w);
    }
  }

  /** Re-sums the window scopes' sums and bins from the ring (full: it just wrapped), dropping any drift. */
  private resum(): void {
    const S = this.keys.length;
    this.win.resetSums();
    for (const slot of this.scopes) for (const sc of slot) sc?.window.resetSums();
    for (let h = 0; h < this.filled; h++) {
      const bin = this.bin[h],
        clicked = this.y[h] === 1,
        w = this.weightOf(this.sw[h], clicked);
      this.win.addSums(bin, clicked, this.p[h], this.ll[h], this.bayesLl[h], w);
      this.win.addBin(bin, clicked, w);
      if (S === 0) continue;
      const coarse = bin === NO_BIN ? NO_BIN : coarsen(bin, STREAM_BINNING, SLICE_BINNING);
      for (let s = 0; s < S; s++) {
        const idx = this.slice[h * S + s];
        if (idx === UNSLICED) continue;
        const sw = this.scopesOf(s, idx).window;
        sw.addSums(bin, clicked, this.p[h], this.ll[h], this.bayesLl[h], w);
        sw.addBin(coarse, clicked, w);
      }
    }
  }

  private scopesOf(s: number, idx: number): SliceScopes {
    let sc = this.scopes[s][idx];
    if (!sc) {
      sc = {
        window: new StreamFigures(SLICE_BINNING),
        lifetime: new StreamFigures(SLICE_BINNING),
      };
      this.scopes[s][idx] = sc;
    }
    return sc;
  }

  /** Figures over the window (undefined ones NaN; see QualityFigures) and its fill. */
  figures(): WindowFigures {
    return { ...this.win.figures(), window: this.filled };
  }

  /** Figures over every example since start. */
  lifetime(): QualityFigures {
    return this.life.figures();
  }

  /** Figures of every slice seen, per sliced slot in order, `other` last. */
  slices(): SliceQuality[] {
    const out: SliceQuality[] = [];
    this.keys.forEach((k, s) => {
      this.scopes[s].forEach((sc, idx) => {
        if (sc)
          out.push({
            slot: k.slot,
            slice: k.nameOf(idx),
            window: sc.window.figures(),
            lifetime: sc.lifetime.figures(),
          });
      });
    });
    return out;
  }

  /** Bytes held: ring buffer and every accumulator's counts. */
  get bytes(): number {
    const ring =
      this.p.byteLength * 3 + this.sw.byteLength + this.bin.byteLength + this.y.byteLength + this.slice.byteLength;
    let counts = this.win.bytes + this.life.bytes;
    for (const slot of this.scopes) for (const sc of slot) if (sc) counts += sc.window.bytes + sc.lifetime.bytes;
    return ring + counts;
  }
}

/**
 * The ProgressiveMetrics of a trainer's `model`: `window` examples, slices of `slices.slots`
 * (categorical slots of model.schema, at most `slices.maxSlices` values each; none when absent),
 * figures on the scale of a log whose negatives were kept at model.rules.negativeRate
 * (train.negativeRate, 1 when absent; module doc).
 * @throws LionctrError LIONCTR_BAD_CONFIG for a slot that cannot be sliced (./slice-keys.ts sliceKeysOf).
 */
export function progressiveMetricsOf(
  window: number,
  model: { schema: FeatureSchema; rules?: { negativeRate: number } },
  slices?: { slots: string[]; maxSlices: number },
): ProgressiveMetrics {
  const keys = slices ? sliceKeysOf(slices.slots, slices.maxSlices, model.schema) : [];
  return new ProgressiveMetrics(window, keys, model.rules?.negativeRate ?? 1);
}
