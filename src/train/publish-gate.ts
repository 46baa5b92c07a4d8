/**
 * The publish gate (config `export.gate`, DESIGN.md "Exports and serving"): a full export is
 * written as a candidate (export-writer.ts writeCandidate), and LATEST moves to it only if,
 * on the newest examples it has not trained on, it is not worse than the version being
 * served. The trainer hands the gate every batch the source gives (`offer`); while a
 * candidate waits, the gate holds the next `examples` examples (whole batches) untrained,
 * scores them with the candidate (the model as it is: CtrModel.predict, no admission) and
 * with the served version (PublishedSnapshot, the copy-on-write rows of the last publish),
 * decides, then gives the held batches back to be trained as usual: nothing is lost and
 * source positions stay exact. Refused: AUC more than `maxAucDrop` below the served
 * version's (same examples), or calibration (sum p / sum y) leaving `calibration`; the
 * candidate is set aside as `refused-<version>` and LATEST stays. With too few clicks or
 * non-clicks (`minClicks`; the source ended, the run's last export) the candidate is
 * published unjudged, unless a candidate was refused since the last publish (then it is
 * refused too: nothing shows the model recovered). Figures are on the progressive figures'
 * corrected scale (evaluation/progressive.ts): predictions recalibrated for train.negativeRate r,
 * examples weighted by their sample weight and non-clicks by 1/r. The rule is gate-rule.ts. The first
 * export of a fresh run has nothing served to be compared with and is published without a
 * gate; a run resumed from a checkpoint judges its first export against the version LATEST
 * names, read from disk (served-from-disk.ts: only the rows the held-out examples need).
 * Every decision is logged with its figures and emitted as a `gate` event (metrics:
 * lionctr_export_gate_*).
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import type { GateEvent } from '../events/train-events.ts';
import { type FeatureBatch, sliceBatch } from '../features/feature-batch.ts';
import type { Featurizer } from '../features/featurizer.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { GateSection } from './config.ts';
import { evalFigures, weightsOf } from './evaluation/binary-metrics.ts';
import { recalibrateAll } from '../model/serving-rules.ts';
import { readLatest } from '../model/export-reader.ts';
import { publishCandidate, refuseCandidate, refusedName } from './export-writer.ts';
import { judge, type Verdict } from './gate-rule.ts';
import { PublishedSnapshot } from './published-snapshot.ts';
import { loadServedRows } from './served-from-disk.ts';
import type { TrainStep } from './train-step.ts';

/** A PublishGate's settings and collaborators. */
export interface PublishGateOptions {
  /** The model being trained: the candidate at each export. */
  model: CtrModel;
  /** Its TrainStep (the snapshot listens to its row updates). */
  step: TrainStep;
  featurizer: Featurizer;
  /** `export.gate`; undefined or not enabled: every export is published at once (no event). */
  config?: GateSection;
  /** Exports root and versions kept there (export.keep). */
  exportDir: string;
  keep: number;
  /** The run resumed from a checkpoint: the version LATEST names is of its lineage (read from disk). */
  resumed: boolean;
  logger: Logger;
  /** Examples the run may still train (train.maxExamples minus those trained; Infinity without a limit). */
  remaining: () => number;
  /** Receives every decision (the trainer's `gate` event). */
  emit: (e: GateEvent) => void;
  /** Called when LATEST has moved to `version` (the trainer starts its delta chain on it). */
  onPublish?: (version: string) => Promise<void> | void;
}

/** Held-out predictions of both models (sampled scale), the labels and sample weights. */
interface Scores {
  cand: Float32Array;
  served: Float32Array;
  labels: Float32Array;
  weights: Float32Array;
}

/** The publish gate of one trainer (see the module doc). */
export class PublishGate {
  private readonly cfg: GateSection | null;
  private readonly snapshot: PublishedSnapshot | null;
  /** The candidate waiting for held-out examples, or null. */
  private pending: string | null = null;
  private held: RecordBatch[] = [];
  private heldRows = 0;
  /** When the candidate began to wait (performance.now() ms). */
  private heldSince = 0;
  /** The version LATEST names: as this gate last set it, or read from disk by a resumed run. */
  private served: string | null = null;
  /** Whether the served version is read from disk (a resumed run before its first publish). */
  private servedOnDisk = false;
  /** Whether a candidate was refused since the last publish. */
  private refusedSincePublish = false;

  constructor(private readonly o: PublishGateOptions) {
    this.cfg = o.config?.enabled ? o.config : null;
    this.snapshot = this.cfg ? new PublishedSnapshot(o.model, o.step) : null;
  }

  /**
   * The candidate `version` was written (writeCandidate): it waits for held-out examples when
   * a version is served to compare with; else (gate off, or a fresh run's first export) it is
   * published at once (`ungated`).
   * @throws filesystem errors of publishCandidate; LionctrError LIONCTR_BAD_EXPORT when LATEST is not a version.
   */
  async afterExport(version: string): Promise<void> {
    if (this.cfg && !this.snapshot!.published && this.o.resumed && this.served === null) {
      this.served = await readLatest(this.o.exportDir);
      this.servedOnDisk = this.served !== null;
    }
    if (this.cfg && (this.snapshot!.published || this.servedOnDisk)) {
      this.pending = version;
      this.heldSince = performance.now();
      return;
    }
    await this.ungated(version, 'nothing served yet in this run to compare with');
  }

  /**
   * Whether batches the source handed over are held untrained (a candidate waits). No
   * checkpoint may be written meanwhile: a checkpoint also commits the source's offsets
   * (Kafka: up to the rows handed to training, held ones included), so a kill -9 after it
   * would lose the held rows: committed, yet in no checkpoint. The trainer postpones its
   * checkpoints until the decision (at most `export.gate.maxHoldSeconds`).
   */
  get holding(): boolean {
    return this.pending !== null;
  }

  /**
   * A delta export was written on the published version (deltas are written only while no
   * candidate waits and none was refused since the publish): serving applies it without LATEST
   * moving, so what it serves is now the model as it is. The snapshot is taken again, so that
   * the next candidate is judged against what serving really serves (base + deltas), not the
   * base alone; the rows saved since the publish are dropped.
   */
  afterDelta(): void {
    if (this.snapshot?.published && this.pending === null && !this.refusedSincePublish) this.snapshot.capture();
  }

  /**
   * Whether delta exports may be written now: not while a candidate waits (they would publish
   * its state unjudged on the old chain) nor after a refusal until the next publish.
   */
  get deltasAllowed(): boolean {
    return this.pending === null && !this.refusedSincePublish;
  }

  /**
   * A batch from the source (empty ones too: an idle source's turns): returned at once to be
   * trained when no candidate waits; else held, and once `export.gate.examples` are held (or
   * all the run may still train), or the first was held `export.gate.maxHoldSeconds` ago, the
   * candidate is decided and every held batch is returned, in order.
   * @throws as settle().
   */
  async offer(rb: RecordBatch): Promise<RecordBatch[]> {
    if (this.pending === null) return [rb];
    if (rb.numRows > 0) this.held.push(rb);
    this.heldRows += rb.numRows;
    const cfg = this.cfg!,
      waited = (performance.now() - this.heldSince) / 1000;
    if (waited >= cfg.maxHoldSeconds) return this.settle(`held for export.gate.maxHoldSeconds ${cfg.maxHoldSeconds}`);
    if (this.heldRows < Math.min(cfg.examples, this.o.remaining())) return [];
    return this.settle();
  }

  /**
   * Decides about the waiting candidate on the examples held so far (fewer than wanted when
   * `why` says why no more come) and returns the held batches to be trained; [] and nothing
   * done when no candidate waits.
   * @throws filesystem errors of publishCandidate / refuseCandidate.
   */
  async settle(why?: string): Promise<RecordBatch[]> {
    const version = this.pending,
      held = this.held;
    this.pending = null;
    this.held = [];
    this.heldRows = 0;
    if (version === null) return held;
    const t0 = performance.now();
    let scores: Scores;
    try {
      scores = await this.score(held);
    } catch (e) {
      // only reading the served version from disk can fail here
      await this.ungated(version, `the served version ${this.served} cannot be read: ${(e as Error).message}`, t0);
      return held;
    }
    const { cand, served, labels } = scores;
    const n = labels.length,
      r = this.o.model.rules.negativeRate;
    let clicks = 0;
    for (let i = 0; i < n; i++) clicks += labels[i];
    // on the full log's scale, as the progressive figures (module doc)
    const w = weightsOf(labels, n, r, scores.weights);
    const c = evalFigures(recalibrateAll(cand, r), labels, n, w),
      s = evalFigures(recalibrateAll(served, r), labels, n, w);
    const figures = {
      candidate: { auc: c.auc, calibration: c.calibration },
      served: { auc: s.auc, calibration: s.calibration },
    };
    const v = judge(figures.candidate, figures.served, n, clicks, this.cfg!, this.refusedSincePublish);
    const bytes = this.snapshot!.bytes;
    await this.decide(version, v, { ...figures, examples: n, clicks, bytes }, why);
    const seconds = (performance.now() - t0) / 1000;
    const { decision, reasons } = v;
    this.o.emit({ version, decision, reasons, examples: n, clicks, ...figures, snapshotBytes: bytes, seconds });
    return held;
  }

  /** Publishes or refuses `version` as `v` says and logs it with `fields`; `why` no examples were held. */
  private async decide(version: string, v: Verdict, fields: Record<string, unknown>, why?: string): Promise<void> {
    const rows = this.snapshot!.rowsSaved,
      mb = ((fields.bytes as number) / 1e6).toFixed(1);
    const mem = this.servedOnDisk
      ? `the served version read from disk (${this.served})`
      : `the served version's copy-on-write snapshot held ${mb} MB (${rows} rows)`;
    const log = { version, gate: v.decision, reasons: v.reasons, ...fields };
    const when = why ? ` (${why})` : '';
    if (v.decision === 'refused') {
      await refuseCandidate(this.o.exportDir, version);
      this.refusedSincePublish = true;
      this.o.logger.warn(
        log,
        `publish gate: version ${version} refused: ${v.why}${when}; LATEST stays at ${this.served}; ` +
          `kept as ${refusedName(version)}; ${mem}`,
      );
      return;
    }
    await this.publish(version);
    const unjudged = v.decision === 'unjudged';
    const msg = `publish gate: version ${version} published${unjudged ? ' unjudged' : ''}: ${v.why}${when}; ${mem}`;
    if (unjudged) this.o.logger.warn(log, msg);
    else this.o.logger.info(log, msg);
  }

  /** Publishes `version` without judging it (`why` for the log); emits `ungated` when the gate is on. */
  private async ungated(version: string, why: string, t0 = performance.now()): Promise<void> {
    await this.publish(version);
    if (!this.cfg) return;
    this.o.logger.info(
      { version, gate: 'ungated' },
      `publish gate: version ${version} published without a gate (${why})`,
    );
    const seconds = (performance.now() - t0) / 1000;
    const none = { reasons: [], examples: 0, clicks: 0, candidate: null, served: null, snapshotBytes: 0 };
    this.o.emit({ version, decision: 'ungated', ...none, seconds });
  }

  /** Moves LATEST to the candidate `version`; the snapshot now holds it as the served version. */
  private async publish(version: string): Promise<void> {
    await publishCandidate(this.o.exportDir, version, this.o.keep);
    this.served = version;
    this.servedOnDisk = false;
    this.refusedSincePublish = false;
    this.snapshot?.capture();
    await this.o.onPublish?.(version);
  }

  /**
   * Candidate and served predictions and the labels of the held batches (cut at what the run
   * may still train). @throws LionctrError LIONCTR_BAD_EXPORT when the served version is read
   * from disk and cannot be.
   */
  private async score(held: RecordBatch[]): Promise<Scores> {
    let left = this.o.remaining();
    const batches: FeatureBatch[] = [];
    for (const rb of held) {
      if (left <= 0) break;
      const b = this.o.featurizer.fromRecordBatch(rb);
      batches.push(b.size > left ? sliceBatch(b, 0, left) : b);
      left -= b.size;
    }
    const disk = this.servedOnDisk ? await loadServedRows(this.o.exportDir, this.served!, this.o.model, batches) : null;
    try {
      const served = (b: FeatureBatch) => (disk ? disk.predict(b) : this.snapshot!.predict(b));
      return {
        cand: concat(batches.map((b) => this.o.model.predict(b))),
        served: concat(batches.map(served)),
        labels: concat(batches.map((b) => b.labels)),
        weights: concat(batches.map((b) => b.weights)),
      };
    } finally {
      disk?.dispose();
    }
  }
}

/** The arrays one after the other. */
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
