/**
 * @module The status page's sampler: every `intervalSeconds` it reads the process's own
 * prom-client registry (the gauges and counters /metrics shows, by their catalogue names) and the
 * served model, and appends one sample to a StatusHistory. Reading metrics by name keeps it apart
 * from the trainer: in `run` the training figures are there, in `serve` they are absent (NaN).
 */
import type client from 'prom-client';
import type { ModelRegistry } from '../model-registry.ts';
import type { Sample, StatusHistory } from './history.ts';

/** Routes whose requests count as predictions (the catalogue's `route` label). */
const PREDICT_ROUTES = new Set(['predict', 'classify', 'regress']);

/** Catalogue names read (metric conventions: src/metrics/catalogue.ts; the freshness ones may be absent). */
export const READ = {
  auc: 'lionctr_progressive_auc',
  logloss: 'lionctr_progressive_logloss',
  calibration: 'lionctr_progressive_calibration',
  trainExamples: 'lionctr_train_examples_total',
  requests: 'lionctr_serve_requests_total',
  trainLag: 'lionctr_train_event_time_lag_seconds',
  exportLag: 'lionctr_export_event_time_lag_seconds',
} as const;

type Values = { value: number; labels: Record<string, string | number | undefined> }[];

/**
 * A quality gauge by scope: with a `scope` label (window|lifetime) each sample by its scope;
 * without one (the gauge of before the label) its one sample is the window's. NaN: absent.
 */
export function byScope(values: Values): { window: number; lifetime: number } {
  const out = { window: Number.NaN, lifetime: Number.NaN };
  for (const v of values) {
    const keys = Object.keys(v.labels).filter((k) => v.labels[k] !== undefined);
    if (keys.length === 0) out.window = v.value;
    else if (keys.length === 1 && (v.labels.scope === 'window' || v.labels.scope === 'lifetime'))
      out[v.labels.scope] = v.value;
  }
  return out;
}

/** Options of StatusSampler. */
export interface SamplerOptions {
  /** The process's metrics registry (what /metrics of this process answers). */
  metrics: client.Registry;
  /** The served versions. */
  models: ModelRegistry;
  history: StatusHistory;
  /** Seconds between samples (> 0). */
  intervalSeconds: number;
  /** Told of a sample that failed (a metric's collect threw); that sample is missing from the history. */
  onError?: (e: unknown) => void;
  /**
   * `serve --workers N`: the metrics of all workers combined (the primary's sum, as /metrics answers);
   * when given, each sample reads its figures from it instead of this worker's own registry, so the
   * page shows the endpoint's rates whichever worker answers it.
   */
  clusterMetrics?: () => Promise<client.MetricObjectWithValues<client.MetricValue<string>>[]>;
}

/** Samples the process's figures into a history on a timer (unref'd: it keeps no process alive). */
export class StatusSampler {
  private timer: NodeJS.Timeout | undefined;
  /** The sample in flight: samples run one after another (rates need the previous totals). */
  private chain: Promise<void> = Promise.resolve();
  /** Counter totals at the previous sample (for rates), NaN before the first. */
  private prev = { t: Number.NaN, examples: Number.NaN, requests: Number.NaN };
  /** The combined metrics of the sample being read (clusterMetrics), by name; undefined: this registry. */
  private snap: Map<string, Values> | undefined;

  constructor(private readonly o: SamplerOptions) {}

  /** True when the process has training metrics (`run`), false for `serve`. */
  get hasTrainer(): boolean {
    return this.o.metrics.getSingleMetric(READ.trainExamples) !== undefined;
  }

  /** Takes a sample now and then one every intervalSeconds until stop(). Idempotent. */
  start(): void {
    if (this.timer) return;
    const tick = () => void this.sample().catch((e) => this.o.onError?.(e));
    tick();
    this.timer = setInterval(tick, this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer (the history stays readable). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The values of metric `name` now; [] when this process has no such metric. */
  private async values(name: string): Promise<Values> {
    if (this.snap) return this.snap.get(name) ?? [];
    const m = this.o.metrics.getSingleMetric(name);
    return m ? ((await m.get()).values as Values) : [];
  }

  /** The sum of metric `name`'s samples whose labels pass `keep`; NaN without the metric. */
  private async total(name: string, keep: (l: Values[number]['labels']) => boolean = () => true): Promise<number> {
    if (this.snap ? !this.snap.has(name) : !this.o.metrics.getSingleMetric(name)) return Number.NaN;
    return (await this.values(name)).filter((v) => keep(v.labels)).reduce((s, v) => s + v.value, 0);
  }

  /** An unlabelled gauge's value; NaN when absent. */
  private async gauge(name: string): Promise<number> {
    const v = (await this.values(name)).find((x) => Object.keys(x.labels).length === 0);
    return v ? v.value : Number.NaN;
  }

  /**
   * The figures now, `nowMs` (unix ms): quality from the gauges, throughputs as counter increases
   * since the previous sample divided by the seconds between them (NaN at the first sample or
   * after a counter went down), the served version's age and event-time lag from its manifest.
   */
  private async read(nowMs: number): Promise<Sample> {
    this.snap = this.o.clusterMetrics
      ? new Map((await this.o.clusterMetrics()).map((m) => [m.name, m.values as Values]))
      : undefined;
    const [auc, logloss, cal] = await Promise.all(
      [READ.auc, READ.logloss, READ.calibration].map(async (n) => byScope(await this.values(n))),
    );
    const examples = await this.total(READ.trainExamples);
    const requests = await this.total(READ.requests, (l) => PREDICT_ROUTES.has(String(l.route)));
    const dt = (nowMs - this.prev.t) / 1000;
    const rate = (now: number, before: number) => (dt > 0 && now >= before ? (now - before) / dt : Number.NaN);
    const manifest = this.o.models.current()?.manifest;
    const watermark = manifest?.event_time_watermark_ms;
    const s: Sample = {
      t: nowMs / 1000,
      auc_window: auc.window,
      auc_lifetime: auc.lifetime,
      logloss_window: logloss.window,
      logloss_lifetime: logloss.lifetime,
      calibration_window: cal.window,
      calibration_lifetime: cal.lifetime,
      train_examples_per_second: rate(examples, this.prev.examples),
      predict_requests_per_second: rate(requests, this.prev.requests),
      train_event_lag_seconds: await this.gauge(READ.trainLag),
      export_event_lag_seconds: await this.gauge(READ.exportLag),
      model_age_seconds: manifest ? (nowMs - Date.parse(manifest.created_at)) / 1000 : Number.NaN,
      serve_event_lag_seconds: typeof watermark === 'number' ? (nowMs - watermark) / 1000 : Number.NaN,
    };
    this.prev = { t: nowMs, examples, requests };
    return s;
  }

  /** Reads the figures at `nowMs` and appends them to the history, after any sample in flight. */
  sample(nowMs = Date.now()): Promise<void> {
    // a failed sample does not stop the next ones
    this.chain = this.chain.catch(() => undefined).then(async () => this.o.history.push(await this.read(nowMs)));
    return this.chain;
  }
}
