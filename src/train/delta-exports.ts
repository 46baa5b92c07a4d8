/**
 * The trainer's delta exports (issue 11 "Delta exports"): every `export.deltaIntervalSeconds`
 * between full exports, the rows changed since the previous export (full or delta) and the
 * dense tower, chained to the last full export this trainer wrote (delta-writer.ts). Holds
 * the changed-row sets (row-changes.ts), the chain (base, seq, previous manifest), the
 * cadence and the ids removed since the last export (tombstones).
 *
 * A chain starts only on a full export written by this process: after a restart the rows
 * changed before it are unknown, so the trainer's first export is a full one (it is
 * written at once). A delta when nothing was trained and nothing removed since the last
 * export is skipped (logged at debug, counted in `skipped`), not written empty.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DeltaEvent } from '../events/train-events.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { DeltaPredecessor } from '../model/delta-format.ts';
import { Cadence } from './cadence.ts';
import { writeDelta, type RemovedIds } from './delta-writer.ts';
import type { ExportMeta } from './export-writer.ts';
import { RowChanges } from './row-changes.ts';
import type { TrainStep } from './train-step.ts';

/** Delta exports of one trainer under one exports root. */
export class DeltaExports {
  readonly changes: RowChanges;
  /** Deltas skipped because nothing changed since the last export. */
  skipped = 0;
  private readonly cadence: Cadence;
  private chain: { baseDir: string; next: DeltaPredecessor } | null = null;
  /** The optimizer step at the last export (full or delta). */
  private stepAtExport = -1;
  private removed = new Map<string, { hi: number[]; lo: number[] }>();

  /**
   * @param step the trainer's step (its rowListeners feed the changed-row sets from now on).
   * @param root the exports root (full exports are `<root>/<version>`).
   * @param intervalSeconds export.deltaIntervalSeconds (> 0).
   */
  constructor(
    private readonly step: TrainStep,
    private readonly root: string,
    intervalSeconds: number,
    private readonly logger: Logger,
  ) {
    this.changes = new RowChanges(step);
    this.cadence = new Cadence(intervalSeconds, performance.now());
  }

  /** The version of the last delta written on the current base (undefined before the first). */
  get lastVersion(): string | undefined {
    return this.chain && this.chain.next.nextSeq > 1 ? this.chain.next.version : undefined;
  }

  /** Whether a delta is due at `nowMs` (performance.now() ms): a chain is open and the interval has passed. */
  due(nowMs: number): boolean {
    return this.chain !== null && this.cadence.due(nowMs);
  }

  /**
   * Records the removal of id (hi, lo) from `slot`'s table since the last export: the next
   * delta writes it as a tombstone (a full export simply lacks the row).
   */
  remove(slot: string, hi: number, lo: number): void {
    const r = this.removed.get(slot) ?? { hi: [], lo: [] };
    this.removed.set(slot, r);
    r.hi.push(hi);
    r.lo.push(lo);
  }

  /**
   * After the full export `version` was written under the root: a new chain starts on it,
   * nothing has changed since. Reads the base's manifest.json (its sha256 is delta 1's
   * prev_sha256).
   * @throws filesystem errors reading `<root>/<version>/manifest.json`.
   */
  async startChain(version: string): Promise<void> {
    const baseDir = join(this.root, version);
    const manifestBytes = await readFile(join(baseDir, 'manifest.json'));
    this.chain = { baseDir, next: { baseVersion: version, nextSeq: 1, version, manifestBytes } };
    this.afterExport();
  }

  /**
   * Writes the next delta of the chain (when one is open) with `meta`, unless nothing changed
   * since the last export; marks the cadence either way.
   * @returns the event to emit, or null when skipped.
   * @throws as writeDelta (LIONCTR_DIVERGED before anything is written; filesystem errors):
   *   the changed rows are kept for the next try.
   */
  async write(model: CtrModel, meta: ExportMeta): Promise<DeltaEvent | null> {
    const chain = this.chain;
    this.cadence.mark(performance.now());
    if (!chain) return null;
    if (this.step.step === this.stepAtExport && !this.changes.any && this.removed.size === 0) {
      this.skipped++;
      this.logger.debug(`no delta: nothing changed since the last export (${this.skipped} skipped)`);
      return null;
    }
    const t = performance.now();
    const removed: Record<string, RemovedIds> = {};
    for (const [slot, r] of this.removed) removed[slot] = { hi: Uint32Array.from(r.hi), lo: Uint32Array.from(r.lo) };
    const d = await writeDelta(chain.baseDir, chain.next, model, this.changes.list(), meta, removed);
    chain.next = d.next;
    this.afterExport();
    const seconds = (performance.now() - t) / 1000;
    const v = d.manifest.version,
      base = chain.next.baseVersion,
      seq = d.manifest.seq;
    this.logger.info(
      { version: v, base, seq, rows: d.rows, tombstones: d.tombstones, seconds, bytes: d.bytes },
      `exported delta ${seq} on ${base} as version ${v} (${d.rows} rows, ${(d.bytes / 1e6).toFixed(1)} MB ` +
        `in ${seconds.toFixed(2)} s)`,
    );
    return {
      version: v,
      base,
      seq,
      rows: d.rows,
      tombstones: d.tombstones,
      seconds,
      bytes: d.bytes,
      watermarkMs: meta.watermarkMs,
    };
  }

  /** An export (full or delta) holds the model as it is now. */
  private afterExport(): void {
    this.changes.clear();
    this.removed.clear();
    this.stepAtExport = this.step.step;
    this.cadence.mark(performance.now());
  }
}
