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
 * refused too: nothing shows the model recovered); the first export of a run (nothing served
 * yet to compare with) is published without a gate. Every decision is logged with its figures and emitted as a
 * `gate` event (metrics: lionctr_export_gate_*).
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import type { GateEvent, GateFigures } from '../events/train-events.ts';
import { sliceBatch } from '../features/feature-batch.ts';
import type { Featurizer } from '../features/featurizer.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { GateSection } from './config.ts';
import { evalFigures } from './evaluation/binary-metrics.ts';
import { publishCandidate, refuseCandidate, refusedName } from './export-writer.ts';
import { PublishedSnapshot } from './published-snapshot.ts';
import type { TrainStep } from './train-step.ts';

/** What the gate decided and why (judge()). */
export interface Verdict {
  decision: 'published' | 'refused' | 'unjudged';
  /** `auc_drop`, `calibration` when refused. */
  reasons: string[];
  /** The figures behind it, in words, for the log. */
  why: string;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'undefined');

/**
 * The gate's rule over the held-out figures of the candidate and the served version (same
 * examples): with fewer than `minClicks` clicks or non-clicks it cannot judge: unjudged
 * (published), unless `afterRefusal` (a candidate was refused since the last publish, and
 * nothing shows this one is better: refused, reason `unjudged_after_refusal`); refused when
 * the candidate's AUC is more than `maxAucDrop` below the served one's (or undefined while
 * the served one's is not; reason `auc_drop`), or its calibration leaves [lo, hi]: outside it
 * while the served version's is inside, or outside and further from 1 (|ln c|) than the
 * served version's, so that a candidate improving on a miscalibrated served version passes
 * (`calibration`); else published.
 * @param clicks clicks among the `examples` held-out examples.
 */
export function judge(
  cand: GateFigures,
  served: GateFigures,
  examples: number,
  clicks: number,
  cfg: Pick<GateSection, 'maxAucDrop' | 'calibration' | 'minClicks'>,
  afterRefusal = false,
): Verdict {
  const on = `on ${examples} held-out examples (${clicks} clicks)`;
  if (clicks < cfg.minClicks || examples - clicks < cfg.minClicks) {
    const why = `too few to judge: ${examples} held-out examples, ${clicks} clicks (export.gate.minClicks ${cfg.minClicks})`;
    if (!afterRefusal) return { decision: 'unjudged', reasons: [], why };
    const refused = `${why}, and the previous candidate was refused`;
    return { decision: 'refused', reasons: ['unjudged_after_refusal'], why: refused };
  }
  const [lo, hi] = cfg.calibration;
  const drop = served.auc - cand.auc;
  const reasons: string[] = [];
  const parts = [`AUC ${f4(cand.auc)} vs served ${f4(served.auc)}`];
  if (Number.isFinite(served.auc) && !(drop <= cfg.maxAucDrop)) {
    reasons.push('auc_drop');
    parts[0] += ` (drop ${f4(drop)} > export.gate.maxAucDrop ${cfg.maxAucDrop})`;
  }
  const cal = `calibration ${f4(cand.calibration)} (served ${f4(served.calibration)})`;
  const inRange = (x: number) => x >= lo && x <= hi;
  // off by a factor: |ln calibration|; a served version outside the range too may be improved on
  const off = (x: number) => Math.abs(Math.log(x));
  if (
    !inRange(cand.calibration) &&
    (inRange(served.calibration) || !(off(cand.calibration) <= off(served.calibration)))
  ) {
    reasons.push('calibration');
    const worse = inRange(served.calibration) ? '' : ', further from 1 than the served version';
    parts.push(`${cal} outside export.gate.calibration [${lo}, ${hi}]${worse}`);
  } else parts.push(cal);
  return { decision: reasons.length ? 'refused' : 'published', reasons, why: `${parts.join(', ')} ${on}` };
}

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
  logger: Logger;
  /** Examples the run may still train (train.maxExamples minus those trained; Infinity without a limit). */
  remaining: () => number;
  /** Receives every decision (the trainer's `gate` event). */
  emit: (e: GateEvent) => void;
}

/** The publish gate of one trainer (see the module doc). */
export class PublishGate {
  private readonly cfg: GateSection | null;
  private readonly snapshot: PublishedSnapshot | null;
  /** The candidate waiting for held-out examples, or null. */
  private pending: string | null = null;
  private held: RecordBatch[] = [];
  private heldRows = 0;
  /** The version LATEST names, as this gate last set it (null before its first publish). */
  private served: string | null = null;
  /** Whether a candidate was refused since the last publish. */
  private refusedSincePublish = false;

  constructor(private readonly o: PublishGateOptions) {
    this.cfg = o.config?.enabled ? o.config : null;
    this.snapshot = this.cfg ? new PublishedSnapshot(o.model, o.step) : null;
  }

  /** Whether a candidate waits for held-out examples (batches offered are held). */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /**
   * The candidate `version` was written (writeCandidate): published at once when the gate is
   * off or nothing is served yet (emits `ungated`), else it waits for held-out examples.
   * @throws filesystem errors of publishCandidate.
   */
  async afterExport(version: string): Promise<void> {
    if (this.snapshot?.published) {
      this.pending = version;
      return;
    }
    const t0 = performance.now();
    await this.publish(version);
    if (!this.cfg) return;
    this.o.logger.info(
      { version, gate: 'ungated' },
      `publish gate: version ${version} published without a gate (nothing served yet in this run to compare with)`,
    );
    const seconds = (performance.now() - t0) / 1000;
    const none = { reasons: [], examples: 0, clicks: 0, candidate: null, served: null, snapshotBytes: 0 };
    this.o.emit({ version, decision: 'ungated', ...none, seconds });
  }

  /**
   * A batch from the source: returned at once to be trained when no candidate waits; else
   * held, and once `export.gate.examples` are held (or all the run may still train), the
   * candidate is decided and every held batch is returned, in order.
   * @throws as settle().
   */
  async offer(rb: RecordBatch): Promise<RecordBatch[]> {
    if (this.pending === null) return [rb];
    this.held.push(rb);
    this.heldRows += rb.numRows;
    if (this.heldRows < Math.min(this.cfg!.examples, this.o.remaining())) return [];
    return this.settle();
  }

  /**
   * Decides about the waiting candidate on the examples held so far (fewer than wanted when
   * `why` says why no more come: the source ended, the run stops) and returns the held batches
   * to be trained; [] and nothing done when no candidate waits.
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
    const { cand, served, labels } = this.score(held);
    const n = labels.length;
    let clicks = 0;
    for (let i = 0; i < n; i++) clicks += labels[i];
    const c = evalFigures(cand, labels),
      s = evalFigures(served, labels);
    const figures = {
      candidate: { auc: c.auc, calibration: c.calibration },
      served: { auc: s.auc, calibration: s.calibration },
    };
    const v = judge(figures.candidate, figures.served, n, clicks, this.cfg!, this.refusedSincePublish);
    const bytes = this.snapshot!.bytes,
      rows = this.snapshot!.rowsSaved;
    const mem = `the served version's copy-on-write snapshot held ${(bytes / 1e6).toFixed(1)} MB (${rows} rows)`;
    const fields = { version, gate: v.decision, reasons: v.reasons, ...figures, examples: n, clicks, bytes };
    if (v.decision === 'refused') {
      await refuseCandidate(this.o.exportDir, version);
      this.refusedSincePublish = true;
      this.o.logger.warn(
        fields,
        `publish gate: version ${version} refused: ${v.why}${why && n === 0 ? ` (${why})` : ''}; ` +
          `LATEST stays at ${this.served}; ` +
          `kept as ${refusedName(version)}; ${mem}`,
      );
    } else {
      await this.publish(version);
      const unjudged = v.decision === 'unjudged';
      const line = unjudged ? `published unjudged: ${v.why}${why ? ` (${why})` : ''}` : `published: ${v.why}`;
      const msg = `publish gate: version ${version} ${line}; ${mem}`;
      if (unjudged) this.o.logger.warn(fields, msg);
      else this.o.logger.info(fields, msg);
    }
    const seconds = (performance.now() - t0) / 1000;
    const { decision, reasons } = v;
    this.o.emit({ version, decision, reasons, examples: n, clicks, ...figures, snapshotBytes: bytes, seconds });
    return held;
  }

  /** Moves LATEST to the candidate `version`; the snapshot now holds it as the served version. */
  private async publish(version: string): Promise<void> {
    await publishCandidate(this.o.exportDir, version, this.o.keep);
    this.served = version;
    this.refusedSincePublish = false;
    this.snapshot?.capture();
  }

  /** Candidate and served predictions and the labels of the held batches (cut at what the run may still train). */
  private score(held: RecordBatch[]): { cand: Float32Array; served: Float32Array; labels: Float32Array } {
    let left = this.o.remaining();
    const parts: { cand: Float32Array; served: Float32Array; labels: Float32Array }[] = [];
    for (const rb of held) {
      if (left <= 0) break;
      let b = this.o.featurizer.fromRecordBatch(rb);
      if (b.size > left) b = sliceBatch(b, 0, left);
      left -= b.size;
      parts.push({ cand: this.o.model.predict(b), served: this.snapshot!.predict(b), labels: b.labels });
    }
    const cat = (k: 'cand' | 'served' | 'labels') => {
      const out = new Float32Array(parts.reduce((a, p) => a + p[k].length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p[k], o);
        o += p[k].length;
      }
      return out;
    };
    return { cand: cat('cand'), served: cat('served'), labels: cat('labels') };
  }
}
