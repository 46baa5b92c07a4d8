/**
 * @module The progressive-validation quality metrics (src/train/evaluation/progressive.ts), part of the
 * catalogue (src/metrics/catalogue.ts), and how a `progress` event sets them. Label `scope`: `window`
 * (the last train.progressive.window examples) or `lifetime` (since the trainer started or resumed);
 * the slice metrics add `slot` and `slice` (a raw value of a slot of train.progressive.sliceSlots,
 * at most train.progressive.maxSlices per slot, the rest `other`). A figure that is undefined is
 * absent (its sample removed), never 0 or stale.
 */
import type client from 'prom-client';
import type { Progress, QualityFigures } from '../events/train-events.ts';
import { makers } from './makers.ts';

/** The `scope` label values. */
export const QUALITY_SCOPES = ['window', 'lifetime'] as const;

/** The figures each scope (and each slice) publishes: metric suffix -> QualityFigures key. */
const FIGURES = {
  auc: 'auc',
  logloss: 'logloss',
  normalized_entropy: 'ne',
  calibration: 'calibration',
  ctr: 'ctr',
  examples: 'examples',
} as const satisfies Record<string, keyof QualityFigures>;

const HELP: Record<keyof typeof FIGURES, string> = {
  auc: 'Progressive-validation ROC AUC (binned; see lionctr_progressive_auc_error_bound)',
  logloss: 'Progressive-validation logloss, nats',
  normalized_entropy: 'Progressive-validation NE (logloss / entropy of the CTR)',
  calibration: 'Progressive-validation calibration (sum p / clicks)',
  ctr: 'Click-through rate of the examples scored (clicks / examples)',
  examples: 'Examples scored',
};

type Suffix = keyof typeof FIGURES;

/** The quality gauges: per scope, and per scope x slot x slice. */
export function qualityMetrics(registry: client.Registry) {
  const { gauge } = makers(registry);
  const scoped = {} as Record<Suffix, client.Gauge<'scope'>>;
  const sliced = {} as Record<Suffix, client.Gauge<'scope' | 'slot' | 'slice'>>;
  for (const k of Object.keys(FIGURES) as Suffix[]) {
    const what = `${HELP[k]}, by scope (window: the last train.progressive.window examples; lifetime: since start)`;
    scoped[k] = gauge(`lionctr_progressive_${k}`, what, ['scope']);
    sliced[k] = gauge(
      `lionctr_progressive_slice_${k}`,
      `${HELP[k]}, per slice (a value of a slot of train.progressive.sliceSlots, or other), by scope`,
      ['scope', 'slot', 'slice'],
    );
  }
  const bound = gauge(
    'lionctr_progressive_auc_error_bound',
    'Stated bound on |lionctr_progressive_auc - exact sort-based AUC| of the same examples: ' +
      'sum over score bins b of pos_b * neg_b / (2 P N) (pos_b, neg_b: clicks, non-clicks in bin b; P, N: in all), ' +
      'by scope',
    ['scope'],
  );
  return { quality: { scoped, sliced, bound } };
}

/** The quality gauges (what setQuality updates). */
export type QualityMetrics = ReturnType<typeof qualityMetrics>['quality'];

/** Sets a labelled gauge to `v`, or removes that sample when `v` is undefined, NaN or infinite. */
function setOrRemove<T extends string>(g: client.Gauge<T>, labels: Partial<Record<T, string>>, v: number | undefined) {
  if (typeof v === 'number' && Number.isFinite(v)) g.set(labels, v);
  else g.remove(labels);
}

/**
 * Sets the quality gauges from a `progress` event: both scopes, then every slice (the slice series
 * are reset first: a restarted trainer's slices replace the last one's).
 */
export function setQuality(q: QualityMetrics, p: Progress): void {
  const window: Partial<QualityFigures> = { ...p, examples: p.window };
  const scopes = { window, lifetime: p.lifetime ?? {} } satisfies Record<string, Partial<QualityFigures>>;
  for (const scope of QUALITY_SCOPES) {
    const f = scopes[scope];
    for (const k of Object.keys(FIGURES) as Suffix[]) setOrRemove(q.scoped[k], { scope }, f[FIGURES[k]]);
    setOrRemove(q.bound, { scope }, f.aucErrorBound);
  }
  for (const k of Object.keys(FIGURES) as Suffix[]) q.sliced[k].reset();
  for (const s of p.slices ?? []) {
    for (const scope of QUALITY_SCOPES) {
      const labels = { scope, slot: s.slot, slice: s.slice };
      for (const k of Object.keys(FIGURES) as Suffix[]) setOrRemove(q.sliced[k], labels, s[scope][FIGURES[k]]);
    }
  }
}
