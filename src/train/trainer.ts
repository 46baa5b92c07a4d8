/**
 * The trainer loop, read top to bottom: passes over a source (resuming inside the pass a checkpoint stopped in), per
 * batch: featurize, step (progressive scoring + update), move the run position on, then the work whose time has come
 * (progress line, export, checkpoint). Everything observable is an event of src/events/train-events.ts that the
 * metrics and the audit log subscribe to (kafkajs-style instrumentation). Collaborators: RunPosition (where the run
 * stands), Cadence (when), progress-line.ts (what the line says), snapshots.ts (checkpoint and export writes),
 * publish-gate.ts (whether LATEST moves to an export), delta-exports.ts (deltas between exports), audit-log.ts.
 */
import { EventEmitter } from 'node:events';
import type { RecordBatch } from 'apache-arrow';
import type { Progress, TrainEvents } from '../events/train-events.ts';
import type { EventArgs } from '../events/typed-emitter.ts';
import { sliceBatch } from '../features/feature-batch.ts';
import { Featurizer } from '../features/featurizer.ts';
import type { Source } from '../ingest/source.ts';
import { featuresOf } from '../ingest/threaded/batch-features.ts';
import { attachAuditLog } from './audit-log.ts';
import { addBadRows, badRowsSince } from './bad-rows.ts';
import { Cadence, type Clocks } from './cadence.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import { progressiveMetricsOf, type ProgressiveMetrics } from './evaluation/progressive.ts';
import { DeltaExports } from './delta-exports.ts';
import type { ExportMeta } from './export-writer.ts';
import { exportFigures, formatProgressLine, progressOf } from './progress-line.ts';
import { RunPosition } from './run-position.ts';
import type { PublishGate } from './publish-gate.ts';
import { trainerGate } from './trainer-gate.ts';
import { saveCheckpoint, saveExport } from './snapshots.ts';
import { assertFiniteWeights } from './finite-check.ts';
import { DivergenceGuard } from './trainer-guard.ts';
import { logBadRows, logPassStart, warnNothingLeft } from './trainer-log.ts';
import { WriteRetries } from './write-retries.ts';
import type { TrainerOptions, TrainSummary } from './trainer-options.ts';

/**
 * Trains `opts.model` from the sources `opts.openSource` opens, one per pass. Stops at the
 * last pass's end, at maxExamples, or when `signal` aborts (after the step in flight), then
 * checkpoints and exports what is new. Events: see TrainEvents.
 */
export class Trainer extends EventEmitter<EventArgs<TrainEvents>> {
  readonly opts: TrainerOptions;
  readonly featurizer: Featurizer;
  readonly progressive: ProgressiveMetrics;
  private readonly position: RunPosition;
  private readonly exportsWritten: string[] = [];
  /** Examples trained when the last export was written (-1: none yet). */
  private examplesAtExport = -1;
  private lastCheckpointStep: number;
  /** Examples trained when run() started (those of a restored checkpoint). */
  private examplesAtStart = 0;
  private readonly badRows: Record<string, number> = {};
  private lastProgress?: Progress;
  /** Skipped (non-finite) steps in a row, and whether the model may be written. */
  private readonly guard: DivergenceGuard;
  /** Delta exports between full ones (null: export.deltaIntervalSeconds = 0 or no exports). */
  private readonly deltas: DeltaExports | null;
  /** Holds the examples after an export to judge it, then moves LATEST (and starts deltas on it) or not. */
  private readonly gate: PublishGate;
  /** Backoff of failed checkpoint, export and delta writes (a full disk). */
  private readonly writes: WriteRetries;

  constructor(opts: TrainerOptions) {
    super();
    this.opts = opts;
    this.featurizer = new Featurizer(opts.model.schema);
    this.progressive = progressiveMetricsOf(opts.metricsWindow, opts.model, opts.progressiveSlices);
    const r = opts.resumeFrom;
    this.position = r ? RunPosition.fromCheckpoint(r.meta) : new RunPosition();
    this.lastCheckpointStep = r ? r.step : -1;
    this.guard = new DivergenceGuard(opts.maxNonfiniteSteps ?? 10, opts.logger);
    if (opts.auditPath) attachAuditLog(this, opts.auditPath, r ? r.step : 0);
    const d = opts.deltaIntervalSeconds ?? 0;
    this.deltas = opts.exportDir && d > 0 ? new DeltaExports(opts.step, opts.exportDir, d, opts.logger) : null;
    opts.model.eviction.onEvict.push((slot, hi, lo) => this.deltas?.remove(slot, hi, lo)); // tombstones of a delta
    this.gate = trainerGate(this, (version) => this.deltas?.startChain(version));
    const backoff = opts.writeRetrySeconds ?? { min: 1, max: 60 };
    this.writes = new WriteRetries(backoff, opts.logger, (e) => this.emit('writeFailure', e));
  }

  /** Examples trained so far (a restored checkpoint's included). */
  get examples(): number {
    return this.position.examples;
  }

  /** Runs until the end (see class doc); resolves with the last progress figures. */
  async run(): Promise<TrainSummary> {
    try {
      return await this.runPasses();
    } finally {
      await this.opts.onClose?.();
    }
  }

  private async runPasses(): Promise<TrainSummary> {
    const o = this.opts,
      t0 = performance.now(),
      startPass = this.position.pass;
    this.examplesAtStart = this.examples;
    let done = this.limitReached();
    if (o.resumeFrom && (done || startPass >= o.epochs)) {
      const finished = done ? `train.maxExamples=${o.maxExamples}` : `${startPass} of ${o.epochs} pass(es)`;
      warnNothingLeft(o.logger, o.resumeFrom.step, this.examples, finished, o.checkpointDir);
    }
    const clocks: Clocks = {
      progress: new Cadence(o.progressSeconds, t0, this.examples),
      export: new Cadence(o.exportIntervalSeconds, t0),
      checkpoint: new Cadence(o.checkpointIntervalSeconds ?? 0, t0),
    };
    for (let epoch = startPass; epoch < o.epochs && !done; epoch++) {
      done = await this.runPass(epoch, epoch === startPass, clocks);
    }
    const seconds = (performance.now() - t0) / 1000;
    const trainedNow = this.examples - this.examplesAtStart;
    const progress = this.reportProgress(trainedNow / Math.max(seconds, 1e-9));
    if (o.exportDir && trainedNow > 0 && this.examples !== this.examplesAtExport) await this.export();
    await this.gate.settle('the run ended: no examples left to hold out');
    return { progress, exports: this.exportsWritten, seconds, badRows: this.badRows, examplesThisRun: trainedNow };
  }

  /** One pass (`first`: the run's first, which may resume); true when the run is done (limit or stop). */
  private async runPass(epoch: number, first: boolean, clocks: Clocks): Promise<boolean> {
    const o = this.opts;
    const resume = first && o.resumeFrom ? this.position.resumePoint() : null;
    const source = await o.openSource(epoch, resume);
    this.position.beginPass(epoch, source.name, resume !== null);
    logPassStart(o.logger, source.name, epoch, o.epochs, resume, o.resumeFrom?.step ?? 0);
    let done: boolean;
    try {
      done = (await this.trainBatches(source, clocks)) || !!o.signal?.aborted; // aborted: the pass did not end
      if (!done) this.position.endPass(epoch, o.epochs, source.name);
      await this.checkpoint(source);
    } finally {
      await source.close?.();
    }
    const bad = source.stats().bad;
    addBadRows(this.badRows, bad);
    logBadRows(o.logger, source.name, bad);
    return done;
  }

  /** Trains the batches of `source`, with the work due in between; true when the limit or a stop ended it. */
  private async trainBatches(source: Source, clocks: Clocks): Promise<boolean> {
    const o = this.opts;
    let badSeen: Record<string, number> = {};
    for await (const rb of source.batches({ batchSize: o.batchSize, signal: o.signal })) {
      const bad = source.stats().bad;
      this.emit('ingest', { ok: rb.numRows, bad: badRowsSince(bad, badSeen) });
      badSeen = { ...bad };
      for (const held of await this.gate.offer(rb)) if (held.numRows > 0) await this.trainBatch(held, source);
      if (source.lag) this.emit('lag', source.lag());
      if (source.backpressurePauses) this.emit('backpressure', { pauses: source.backpressurePauses() });
      if (source.offsetResets) this.emit('offsetResets', source.offsetResets());
      await this.doWhatIsDue(source, clocks, performance.now());
      if (this.limitReached() || o.signal?.aborted) break;
      await new Promise<void>((res) => setImmediate(res)); // let HTTP and signals in
    }
    // an export waiting for held-out examples is decided on those held, which are then trained
    for (const held of await this.gate.settle('no more examples')) await this.trainBatch(held, source);
    return this.limitReached() || !!o.signal?.aborted;
  }

  /**
   * Featurize, cut at maxExamples (the source takes the cut rows back), step, account; emits
   * `step`, and `nonfinite` when the step's update was skipped (its examples still count as
   * consumed: the run position moves past them). @throws LionctrError LIONCTR_DIVERGED after
   * train.maxNonfiniteSteps skipped steps in a row; what opts.rowSync throws (a store out of reach).
   */
  private async trainBatch(rb: RecordBatch, source: Source): Promise<void> {
    const o = this.opts,
      stepStart = performance.now();
    let batch = featuresOf(this.featurizer, rb); // made on the ingest thread, or now
    if (o.maxExamples && this.examples + batch.size > o.maxExamples) {
      const keep = o.maxExamples - this.examples;
      source.untrained?.(batch.size - keep); // not trained: a source with positions takes them back
      batch = sliceBatch(batch, 0, keep);
    }
    await o.rowSync?.pull(batch); // rows.store=redis: the batch's rows from the store, pushed back after the step
    const r = o.step.run(batch);
    await o.rowSync?.push();
    const skipped = this.guard.afterStep(r, batch, o.step.step);
    this.progressive.addBatch(r.predictions, batch, rb);
    this.position.account(source.name, batch);
    this.emit('step', {
      step: o.step.step,
      examples: batch.size,
      seconds: (performance.now() - stepStart) / 1000,
      loss: r.loss,
      watermarkMs: this.position.watermarkMs,
      positions: { source: source.name, partitions: batch.partitions, offsets: batch.offsets },
    });
    if (skipped) {
      this.emit('nonfinite', skipped);
      this.guard.stopIfDiverged(skipped.what, this.lastCheckpointStep);
    }
  }

  /** The work whose time has come at `now` (ms): a progress line, an export, a checkpoint. */
  private async doWhatIsDue(source: Source, c: Clocks, now: number): Promise<void> {
    if (c.progress.due(now)) {
      // while idle (a caught-up stream) the metrics still update but the log stays quiet
      this.reportProgress(c.progress.rate(now, this.examples), this.examples === c.progress.lastCount);
      c.progress.mark(now, this.examples);
    }
    // exports only when something was trained since the last one (an idle stream or an
    // outage does not mint new versions of the same model): the first at once, then periodic; one
    // postponed (the model is not fit to be written) is tried after the next step, one that failed
    // (a full disk) after its backoff (write-retries.ts) while training goes on
    const { writes: w, opts: o } = this;
    const trainedSinceExport = this.examples > this.examplesAtStart && this.examples !== this.examplesAtExport;
    if (o.exportDir && trainedSinceExport && c.export.due(now, !this.exportsWritten.length) && w.ready('export')) {
      if (await w.attempt('export', () => this.export())) c.export.mark(performance.now());
    } else if (this.deltas?.due(now) && this.gate.deltasAllowed && o.exportRole?.held !== false && w.ready('delta')) {
      if (this.guard.fitToWrite(o.model, `a delta at step ${o.step.step}`)) {
        const e = await w.attempt('delta', () => this.deltas!.write(o.model, this.exportMeta()));
        if (e) this.emit('delta', e);
      }
    }
    // a source that gave up partitions asks for a checkpoint (their offsets are committed by it); rows the publish
    // gate holds are trained first, so that it covers them; its failure is not retried but fails the run
    const wanted = source.checkpointWanted?.() ?? false;
    if (wanted) for (const held of await this.gate.settle('partitions released')) await this.trainBatch(held, source);
    // and none while the gate holds rows: it would commit the source's offsets past them (PublishGate.holding)
    if (c.checkpoint.due(now, wanted) && !this.gate.holding && (wanted || w.ready('checkpoint'))) {
      const write = () => this.checkpoint(source).then(() => true);
      if (await (wanted ? write() : w.attempt('checkpoint', write))) c.checkpoint.mark(performance.now());
    }
  }

  /**
   * Writes a checkpoint unless nothing was trained since the last one (which is then still
   * durable), then tells the source, which commits its offsets. Emits `checkpoint`. Waits
   * (writes nothing, commits nothing) while the model is not fit to be written (DivergenceGuard).
   * @throws LionctrError LIONCTR_DIVERGED when a weight is NaN or infinite (nothing written).
   */
  private async checkpoint(source: Source): Promise<void> {
    const o = this.opts,
      step = o.step.step;
    if (o.checkpointDir && !this.guard.fitToWrite(o.model, `a checkpoint at step ${step}`)) return;
    const meta: CheckpointMeta = {
      ...this.position.toMeta(),
      modelFingerprint: o.modelFingerprint ?? '',
      modelConfig: o.modelConfig,
    };
    if (o.checkpointDir && step !== 0 && step !== this.lastCheckpointStep) {
      assertFiniteWeights(o.model, `a checkpoint under ${o.checkpointDir}`);
      const e = await saveCheckpoint(o.checkpointDir, o.step, meta, o.checkpointKeep ?? 2, o.logger);
      this.lastCheckpointStep = step;
      this.emit('checkpoint', e);
    }
    if (source.checkpointed) await source.checkpointed(meta.sourceOffsets);
  }

  /**
   * Writes an export now (with the last progress figures) and emits `export`, unless the model is not fit to be
   * written (DivergenceGuard; then it waits) or opts.exportRole is not held. @returns its version, or null.
   * @throws LionctrError LIONCTR_DIVERGED when a weight is NaN or infinite (nothing written).
   */
  async export(): Promise<string | null> {
    const o = this.opts;
    if (o.exportRole?.held === false || !this.guard.fitToWrite(o.model, `an export at step ${o.step.step}`))
      return null;
    const write = () => saveExport(o.exportDir!, o.model, this.exportMeta(), o.logger);
    const e = await (o.exportRole?.around(write) ?? write());
    this.emit('export', e);
    await this.gate.afterExport(e.version); // published now (deltas start on it), or once judged
    this.exportsWritten.push(e.version); // not before: a publish that failed is tried again
    this.examplesAtExport = this.position.examples;
    return e.version;
  }

  /** What an export (full or delta) records besides the model: position, figures, the last delta's version. */
  private exportMeta(): ExportMeta {
    const pos = this.position;
    const metrics = exportFigures(this.lastProgress ?? this.figures());
    const at = { step: this.opts.step.step, examples: pos.examples, watermarkMs: pos.watermarkMs };
    const weightDtype = this.opts.exportWeightDtype;
    return { ...at, sourceOffsets: pos.offsets(), metrics, afterVersion: this.deltas?.lastVersion, weightDtype };
  }

  /** Current progressive figures at `examplesPerSecond`. */
  private figures(examplesPerSecond = 0): Progress {
    const pm = this.progressive;
    return progressOf(pm.figures(), this.opts.step.step, this.examples, examplesPerSecond, pm.lifetime(), pm.slices());
  }

  /** Emits `tables` and `progress`; logs the progress line unless `quiet` (slices counted: they are on /metrics). */
  private reportProgress(rate: number, quiet = false): Progress {
    const p = this.figures(rate);
    this.lastProgress = p;
    const slots = this.opts.model.tableStats();
    this.emit('tables', { slots, watermarkMs: this.position.watermarkMs });
    if (!quiet) this.opts.logger.info({ progress: { ...p, slices: p.slices.length } }, formatProgressLine(p));
    this.emit('progress', p);
    return p;
  }

  private limitReached(): boolean {
    return !!(this.opts.maxExamples && this.examples >= this.opts.maxExamples);
  }
}
