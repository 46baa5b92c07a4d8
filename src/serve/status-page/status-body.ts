/**
 * @module The JSON of GET /v1/lionctr/status (what the status page draws): the served version
 * (its age, event-time lag, step, examples and the trainer's figures at export), whether this
 * process trains and how its trainer stands, the newest sample, and the history as one array per
 * series (uPlot's data layout; null where a figure was undefined).
 */
import type { ModelRegistry } from '../model-registry.ts';
import { SERIES, type StatusHistory } from './history.ts';

/** What the status JSON is built from. */
export interface StatusSources {
  modelName: string;
  models: ModelRegistry;
  history: StatusHistory;
  /** Seconds between samples. */
  intervalSeconds: number;
  /** True when this process trains (`run`). */
  hasTrainer: boolean;
  /** `run`'s trainer state (`up`, `down: ...`); undefined for `serve`. */
  training?: () => string;
}

const finite = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Significant digits of the charted figures in the JSON (about halves a full history's bytes). */
const DIGITS = 6;

/** The history's columns with every series but `t` (unix seconds, kept to the ms) at DIGITS significant digits. */
function rounded(cols: ReturnType<StatusHistory['columns']>): ReturnType<StatusHistory['columns']> {
  const out = { ...cols };
  for (const n of SERIES)
    if (n !== 't') out[n] = cols[n].map((v) => (v === null ? null : Number(v.toPrecision(DIGITS))));
  return out;
}

/** The status JSON at `nowMs` (unix ms). */
export function statusBody(src: StatusSources, nowMs = Date.now()): unknown {
  const m = src.models.current();
  const watermark = m?.manifest.event_time_watermark_ms;
  const last = src.history.last();
  return {
    model_name: src.modelName,
    now: nowMs / 1000,
    served: m
      ? {
          version: m.version,
          created_at: m.manifest.created_at,
          age_seconds: (nowMs - Date.parse(m.manifest.created_at)) / 1000,
          event_lag_seconds: typeof watermark === 'number' ? (nowMs - watermark) / 1000 : null,
          step: m.manifest.step,
          examples: m.manifest.examples,
          delta_seq: m.deltaSeq ?? 0,
          metrics_at_export: m.manifest.metrics,
        }
      : null,
    load_error: src.models.lastError ?? null,
    trainer: src.hasTrainer,
    training: src.training?.() ?? null,
    latest: last ? Object.fromEntries(SERIES.map((n) => [n, finite(last[n])])) : null,
    history: {
      interval_seconds: src.intervalSeconds,
      capacity: src.history.capacity,
      bytes: src.history.bytes,
      series: rounded(src.history.columns()),
    },
  };
}
