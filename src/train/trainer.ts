import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Featurizer } from '../features/featurizer.ts';
import { sliceBatch } from '../features/feature-batch.ts';
import { appendFileSync } from 'node:fs';
import type { ResumePoint, Source } from '../ingest/source.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { writeExport } from './export-writer.ts';
import { writeCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { captureState } from './train-state.ts';
import { ProgressiveMetrics } from './evaluation/progressive.ts';
import type { TrainStep } from './train-step.ts';

export interface TrainerOptions {
  model: CtrModel;
  step: TrainStep;
  /**
   * Opens the source for pass `epoch` (0-based); called `epochs` times. `resume` is set for
   * the pass a checkpoint stopped in: the source starts at its offsets.
   */
  openSource: (epoch: number, resume: ResumePoint | null) => Source | Promise<Source>;
  epochs: number;
  batchSize: number;
  /** Stop after this many examples (0 = no limit). */
  maxExamples: number;
  metricsWindow: number;
  /** Seconds between progress lines (0 = none). */
  progressSeconds: number;
  /** Exports root; null = never export. */
  exportDir: string | null;
  /** Seconds between periodic exports (0 = only the first and the last). */
  exportIntervalSeconds: number;
  exportKeep: number;
  /** Checkpoints root; null = never checkpoint. */
  checkpointDir?: string | null;
  /** Seconds between checkpoints (0 = only at the end and when the source asks). */
  checkpointIntervalSeconds?: number;
  checkpointKeep?: number;
  /** Fingerprint of the model config, stored in checkpoints. */
  modelFingerprint?: string;
  /** The model config behind the fingerprint, stored in checkpoints. */
  modelConfig?: unknown;
  /** The checkpoint the model was restored from (its state is already in model/step). */
  resumeFrom?: { step: number; meta: CheckpointMeta } | null;
  /**
   * Test/debug aid: a JSON-lines file that gets `{"run","restoredStep"}` at start and
   * `{"run","step","rows":[[key,offset],...]}` after every step (each trained row's position).
   */
  auditPath?: string | null;
  /** Called once when run() ends, also on an error (releases the checkpoint directory lock). */
  onClose?: () => void;
  logger: Logger;
  signal?: AbortSignal;
}

/** Progress figures (also the `progress` event payload). */
export interface Progress {
  step: number;
  examples: number;
  /** Examples per second since the previous progress line. */
  examplesPerSecond: number;
  auc: number;
  logloss: number;
  ne: number;
  calibration: number;
  /** Logloss of the true probabilities over the same window (synthetic source only). */
  bayesLogloss?: number;
  /** (LL_base - LL_model) / (LL_base - LL_bayes) over the window (synthetic only). */
  gainCaptured?: number;
  window: number;
}

/** The `tables` event payload, emitted with every progress line. */
export interface TablesEvent { slots: { slot: string; rows: number; bytes: number }[]; watermarkMs: number | null }

export interface TrainSummary {
  progress: Progress;
  exports: string[];
  seconds: number;
  /** Bad rows skipped by the source(s), by reason, summed over passes. */
  badRows: Record<string, number>;
  /** Examples trained by this run (progress.examples includes those of a restored checkpoint). */
  examplesThisRun: number;
}

/**
 * The trainer loop, read top to bottom: poll a batch, featurize, step (progressive
 * scoring + update), account, export. Everything observable is emitted as an event
 * (`ingest`, `step`, `progress`, `tables`, `export`, `checkpoint`, `lag`, `backpressure`) that metrics subscribe to (kafkajs-style instrumentation).
 * Stops at the source's end, at maxExamples, or when `signal` aborts (after the step in
 * flight, with a final export).
 */
export class Trainer extends EventEmitter {
  readonly opts: TrainerOptions;
  readonly featurizer: Featurizer;
  readonly progressive: ProgressiveMetrics;
  examples = 0;
  private watermarkMs: number | null = null;
  private nextOffsets: Record<string, number> = {};
  private readonly exportsWritten: string[] = [];
  private passExamples = 0;
  /** Examples trained when the last export was written (-1: none yet). */
  private examplesAtExport = -1;
  private pass = 0;
  private lastCheckpointStep = -1;
  private readonly runId = `${process.pid}-${Date.now()}`;
  private readonly badRows: Record<string, number> = {};
  private lastProgress?: Progress;

  constructor(opts: TrainerOptions) {
    super();
    this.opts = opts;
    this.featurizer = new Featurizer(opts.model.schema);
    this.progressive = new ProgressiveMetrics(opts.metricsWindow);
    const r = opts.resumeFrom;
    if (r) {
      this.examples = r.meta.examples;
      this.nextOffsets = { ...r.meta.sourceOffsets };
      this.watermarkMs = r.meta.watermarkMs;
      this.pass = r.meta.pass;
      this.passExamples = r.meta.passExamples;
      this.lastCheckpointStep = r.step;
    }
    if (opts.auditPath) appendFileSync(opts.auditPath, JSON.stringify({ run: this.runId, restoredStep: r ? r.step : 0 }) + '\n');
  }

  /** Runs until the end (see class doc); resolves with the last progress figures. */
  async run(): Promise<TrainSummary> {
    try { return await this.runPasses(); } finally { this.opts.onClose?.(); }
  }

  private async runPasses(): Promise<TrainSummary> {
    const o = this.opts, log = o.logger;
    const t0 = performance.now();
    let lastLine = t0, lastLineExamples = this.examples, lastExport = t0, lastCheckpoint = t0;
    let done = !!(o.maxExamples && this.examples >= o.maxExamples);
    const startPass = this.pass;
    if (o.resumeFrom && (done || startPass >= o.epochs)) {
      log.warn(`nothing left to train: the checkpoint (step ${o.resumeFrom.step}, ${this.examples} examples) already finished ${done ? `train.maxExamples=${o.maxExamples}` : `${startPass} of ${o.epochs} pass(es)`}; delete ${o.checkpointDir} or raise the limit to train more`);
    }
    const examplesAtStart = this.examples;
    for (let epoch = startPass; epoch < o.epochs && !done; epoch++) {
      // resume inside the pass the checkpoint stopped in; a pass it had not started (or
      // finished: then the offsets are the previous pass's) starts from the beginning
      const resume = epoch === startPass && o.resumeFrom && this.passExamples > 0 ? { nextOffsets: { ...this.nextOffsets }, passExamples: this.passExamples } : null;
      const source = await o.openSource(epoch, resume);
      if (!resume) {
        // a new pass: its positions start over
        for (const k of Object.keys(this.nextOffsets)) if (k.startsWith(`${source.name}/`)) delete this.nextOffsets[k];
        this.passExamples = 0;
      }
      this.pass = epoch;
      if (resume && !Object.keys(resume.nextOffsets).some((k) => k.startsWith(`${source.name}/`))) {
        log.warn({ checkpointOffsets: resume.nextOffsets }, `the checkpoint's positions are of another source (${Object.keys(resume.nextOffsets).join(', ')}); ${source.name} starts from its beginning`);
      }
      log.info({ source: source.name, epoch }, `training from ${source.name}${o.epochs > 1 ? ` (pass ${epoch + 1}/${o.epochs})` : ''}${resume ? ` from checkpoint step ${o.resumeFrom!.step}` : ''}`);
      let badSeen: Record<string, number> = {};
      try {
        for await (const rb of source.batches({ batchSize: o.batchSize, signal: o.signal })) {
          badSeen = this.emitIngest(rb.numRows, source.stats().bad, badSeen);
          if (rb.numRows > 0) {
            const stepStart = performance.now();
            let batch = this.featurizer.fromRecordBatch(rb);
            if (o.maxExamples && this.examples + batch.size > o.maxExamples) {
              const keep = o.maxExamples - this.examples;
              source.untrained?.(batch.size - keep); // not trained: a source with positions takes them back
              batch = sliceBatch(batch, 0, keep);
            }
            const r = o.step.run(batch);
            this.progressive.add(r.predictions, batch.labels, batch.bayesP, batch.size);
            this.account(batch, source.name);
            if (o.auditPath) this.audit(batch, source.name);
            this.emit('step', { examples: batch.size, seconds: (performance.now() - stepStart) / 1000, loss: r.loss, watermarkMs: this.watermarkMs });
          }
          if (source.lag) this.emit('lag', source.lag());
          if (source.backpressurePauses) this.emit('backpressure', { pauses: source.backpressurePauses() });
          const now = performance.now();
          if (o.progressSeconds > 0 && now - lastLine >= o.progressSeconds * 1000) {
            // while idle (a caught-up stream) the metrics still update but the log stays quiet
            this.reportProgress((this.examples - lastLineExamples) / ((now - lastLine) / 1000), this.examples === lastLineExamples);
            lastLine = now; lastLineExamples = this.examples;
          }
          const firstExport = this.exportsWritten.length === 0;
          // exports only when something was trained since the last one (an idle stream or an
          // outage does not mint new versions of the same model)
          if (o.exportDir && this.examples > examplesAtStart && this.examples !== this.examplesAtExport && (firstExport || (o.exportIntervalSeconds > 0 && now - lastExport >= o.exportIntervalSeconds * 1000))) {
            await this.export(); lastExport = performance.now();
          }
          const interval = o.checkpointIntervalSeconds ?? 0;
          const wanted = source.checkpointWanted?.() ?? false;
          if (wanted || (interval > 0 && now - lastCheckpoint >= interval * 1000)) {
            await this.checkpoint(source, true); lastCheckpoint = performance.now();
          }
          if ((o.maxExamples && this.examples >= o.maxExamples) || o.signal?.aborted) { done = true; break; }
          await new Promise<void>((res) => setImmediate(res)); // let HTTP and signals in
        }
        if (o.signal?.aborted) done = true; // a source that ends its batches on abort did not finish the pass
        if (!done) {
          // the pass is complete: a checkpoint from here on resumes at the next pass (its
          // positions start over; after the last pass they are kept for the record)
          this.pass = epoch + 1;
          this.passExamples = 0;
          if (epoch + 1 < o.epochs) for (const k of Object.keys(this.nextOffsets)) if (k.startsWith(`${source.name}/`)) delete this.nextOffsets[k];
        }
        await this.checkpoint(source, true);
      } finally {
        await source.close?.();
      }
      const st = source.stats();
      for (const [k, v] of Object.entries(st.bad)) this.badRows[k] = (this.badRows[k] ?? 0) + v;
      if (Object.keys(st.bad).length) log.warn({ bad: st.bad }, `${source.name}: skipped bad rows ${JSON.stringify(st.bad)}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const trainedNow = this.examples - examplesAtStart;
    const progress = this.reportProgress(trainedNow / Math.max(seconds, 1e-9));
    if (o.exportDir && trainedNow > 0 && this.examples !== this.examplesAtExport) await this.export();
    return { progress, exports: this.exportsWritten, seconds, badRows: this.badRows, examplesThisRun: trainedNow };
  }

  /**
   * Writes a checkpoint (unless `onlyIfNew` and nothing was trained since the last one,
   * which is then still durable) and then tells the source, which commits its offsets.
   * Emits `checkpoint`.
   */
  private async checkpoint(source: Source, onlyIfNew = false): Promise<void> {
    const o = this.opts;
    const step = o.step.step;
    if (!o.checkpointDir) {
      if (source.checkpointed) await source.checkpointed({ ...this.nextOffsets });
      return;
    }
    if (onlyIfNew && (step === this.lastCheckpointStep || step === 0)) { // nothing (new) trained
      if (source.checkpointed) await source.checkpointed({ ...this.nextOffsets });
      return;
    }
    const t = performance.now();
    const meta: CheckpointMeta = {
      examples: this.examples, sourceOffsets: { ...this.nextOffsets }, pass: this.pass, passExamples: this.passExamples,
      watermarkMs: this.watermarkMs, modelFingerprint: o.modelFingerprint ?? '', modelConfig: o.modelConfig,
    };
    const r = await writeCheckpoint(o.checkpointDir, await captureState(o.step), meta, o.checkpointKeep ?? 2);
    this.lastCheckpointStep = step;
    const seconds = (performance.now() - t) / 1000;
    o.logger.info({ dir: r.dir, seconds, bytes: r.bytes }, `checkpoint step ${step} (${(r.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s)`);
    this.emit('checkpoint', { step, seconds, bytes: r.bytes });
    if (source.checkpointed) await source.checkpointed(meta.sourceOffsets);
  }

  private audit(batch: { size: number; partitions: Int32Array; offsets: Float64Array }, sourceName: string): void {
    const rows: [string, number][] = [];
    for (let b = 0; b < batch.size; b++) rows.push([`${sourceName}/${batch.partitions[b]}`, batch.offsets[b]]);
    appendFileSync(this.opts.auditPath!, JSON.stringify({ run: this.runId, step: this.opts.step.step, rows }) + '\n');
  }

  /** Current progressive figures. */
  figures(examplesPerSecond = 0): Progress {
    const f = this.progressive.figures();
    const p: Progress = {
      step: this.opts.step.step, examples: this.examples, examplesPerSecond,
      auc: f.auc, logloss: f.logloss, ne: f.ne, calibration: f.calibration, window: f.window,
    };
    if (f.bayesLogloss !== undefined) {
      const base = f.logloss / f.ne; // entropy of the window's CTR
      p.bayesLogloss = f.bayesLogloss;
      p.gainCaptured = (base - f.logloss) / (base - f.bayesLogloss);
    }
    return p;
  }

  private reportProgress(rate: number, quiet = false): Progress {
    const p = this.figures(rate);
    this.lastProgress = p;
    const fx = (x: number | undefined, d = 4) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
    const bayes = p.bayesLogloss !== undefined ? ` | bayes logloss ${fx(p.bayesLogloss)} gain ${fx(p.gainCaptured, 3)}` : '';
    this.emit('tables', {
      slots: this.opts.model.tables.map((t) => ({ slot: t.slot, rows: t.size, bytes: t.bytes })),
      watermarkMs: this.watermarkMs,
    });
    if (!quiet) this.opts.logger.info({ progress: p },
      `step ${p.step} | ${p.examples} ex | ${Math.round(rate)} ex/s | progressive(${p.window}) AUC ${fx(p.auc)} logloss ${fx(p.logloss)} NE ${fx(p.ne)} calib ${fx(p.calibration, 3)}${bayes}`);
    this.emit('progress', p);
    return p;
  }

  private account(batch: { size: number; eventTimeMs: Float64Array; partitions: Int32Array; offsets: Float64Array }, sourceName: string): void {
    this.examples += batch.size;
    this.passExamples += batch.size;
    for (let b = 0; b < batch.size; b++) {
      const t = batch.eventTimeMs[b];
      if (!Number.isNaN(t) && (this.watermarkMs === null || t > this.watermarkMs)) this.watermarkMs = t;
      const key = `${sourceName}/${batch.partitions[b]}`;
      // the last row of a partition sets its position (offsets rise within a partition; a
      // source that starts a partition over, e.g. a recreated Kafka topic, may lower it)
      this.nextOffsets[key] = batch.offsets[b] + 1;
    }
  }

  /** Emits `ingest` {ok, bad: {reason: new count}} for rows read since the last call; returns the new snapshot. */
  private emitIngest(ok: number, bad: Record<string, number>, seen: Record<string, number>): Record<string, number> {
    const delta: Record<string, number> = {};
    for (const [k, v] of Object.entries(bad)) if (v > (seen[k] ?? 0)) delta[k] = v - (seen[k] ?? 0);
    this.emit('ingest', { ok, bad: delta });
    return { ...bad };
  }

  /** Writes an export now and emits `export`. */
  async export(): Promise<string> {
    const t = performance.now();
    const p = this.lastProgress ?? this.figures();
    const metrics: Record<string, number | null> = {};
    for (const k of ['auc', 'logloss', 'ne', 'calibration', 'bayesLogloss', 'gainCaptured'] as const) {
      const v = p[k];
      metrics[k] = v === undefined || Number.isNaN(v) ? null : v;
    }
    const r = await writeExport(this.opts.exportDir!, this.opts.model, {
      step: this.opts.step.step, examples: this.examples, sourceOffsets: { ...this.nextOffsets }, watermarkMs: this.watermarkMs, metrics,
    }, this.opts.exportKeep);
    this.exportsWritten.push(r.version);
    this.examplesAtExport = this.examples;
    const seconds = (performance.now() - t) / 1000;
    this.opts.logger.info({ version: r.version, seconds, bytes: r.bytes }, `exported version ${r.version} (${(r.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s)`);
    this.emit('export', { version: r.version, seconds, bytes: r.bytes, watermarkMs: this.watermarkMs });
    return r.version;
  }

  /** Event time of the newest trained example (ms), null if none. */
  get watermark(): number | null { return this.watermarkMs; }
}
