/**
 * Partition positions of the Kafka source, as plain state with no broker (kafkajs keeps
 * the like in `subscriptionState.js` and `offsetManager/`): per partition where fetching
 * continues, what was handed to training, the floor commits never go below, the
 * checkpoint's offsets, the partitions to release; and from these which offsets may be
 * committed after a checkpoint and the lag. Offsets are next-to-read positions, keyed for
 * checkpoints by `<source name>/<partition>` (DESIGN.md "Ids, offsets and exactly-once").
 *
 * `firstQueued` arguments map a partition to the offset of its oldest queued, untrained row
 * (RowQueue.firstQueued()): rows below it are trained (or dead-lettered), rows from it are not.
 */
import { isKeyOf, partitionOf, positionKey } from '../position-key.ts';
import { inRange, type OffsetRange, type OffsetResetPolicy } from './offset-reset.ts';
import { startOffset, type OwnerMark } from './ownership.ts';

export type { OffsetRange } from './offset-reset.ts';

/** One offset to commit after a checkpoint, with the ownership state its mark carries. */
export interface PlannedCommit {
  partition: number;
  offset: number;
  state: OwnerMark['state'];
}

/** What is known of a partition's position when it is assigned (next offsets; null/undefined = unknown). */
export interface KnownPositions {
  /** The group's committed offset. */
  committed: number | null | undefined;
  /** The trainer's checkpoint offset. */
  checkpoint: number | null | undefined;
  /** The offset this process already handed to training. */
  handed: number | null | undefined;
}

/**
 * Where an assigned partition starts: the largest of the committed and checkpoint offsets
 * (`durableStart`; with neither, `range.low` when `fromBeginning`, else the first fetched
 * offset, else `range.high`), raised to `handed`, then moved into `range` by `reset` (inRange;
 * `fail` moves it to low: the caller refuses). An out-of-range start also lowers
 * `durableStart` to the reset offset.
 * @param firstFetched offset of the first message of the batch in hand, or null.
 * @returns `start`, `durableStart` and `requested`: the start before it was moved into range
 *   (they differ when the topic was recreated or truncated, or records expired).
 */
export function plannedStart(
  known: KnownPositions,
  range: OffsetRange,
  fromBeginning: boolean,
  firstFetched: number | null,
  reset: OffsetResetPolicy = 'earliest',
): { start: number; durableStart: number; requested: number } {
  // the latest end is where the consumer began fetching at its join: the first fetched
  // message (the end now already counts the batch in hand, which would be skipped)
  let durableStart =
    startOffset(known.committed, known.checkpoint) ?? (fromBeginning ? range.low : (firstFetched ?? range.high));
  const requested = startOffset(durableStart, known.handed)!;
  const start = inRange(requested, range, reset);
  if (start !== requested) durableStart = Math.min(durableStart, start);
  return { start, durableStart, requested };
}

/** Positions of the partitions of one Kafka source (see the module doc). */
export class PartitionPositions {
  /** Partitions of the current assignment, in assignment order. */
  assigned = new Set<number>();
  /** Next offset to enqueue, per partition whose start is resolved. */
  private readonly position = new Map<number, number>();
  /** Next offset after the rows handed to the trainer (trained in this process). */
  private readonly handed = new Map<number, number>();
  /** Start resolved at assignment; commits never go below it. */
  private readonly floor = new Map<number, number>();
  /** Checkpoint offsets by position key. */
  private readonly durable: Record<string, number>;
  private readonly highWater = new Map<number, number>();
  /** Where an assigned partition not started yet will start, as far as known (for its lag while caught up). */
  private readonly expectedStart = new Map<number, number>();
  /** Revoked partitions to release (commit with a `released` mark) at the next checkpoint. */
  private readonly released = new Set<number>();
  /** Committable offset of a revoked partition at the moment it was revoked. */
  private readonly releaseAt = new Map<number, number>();
  /** Partitions reset (topic recreated) whose trainer positions are still the old topic's. */
  private readonly staleNext = new Set<number>();
  private releaseRetryAt = 0;

  /**
   * @param source the source name (`kafka:<topic>`), the prefix of its position keys.
   * @param resume the checkpoint's next offsets by position key (others' keys are kept, unused).
   */
  constructor(
    readonly source: string,
    resume: Record<string, number> = {},
  ) {
    this.durable = { ...resume };
  }

  private key(p: number): string {
    return positionKey(this.source, p);
  }

  /** True when partition p's start is resolved in this assignment. */
  started(p: number): boolean {
    return this.position.has(p);
  }
  /** Next offset to enqueue of partition p (undefined before its start is resolved). */
  positionOf(p: number): number | undefined {
    return this.position.get(p);
  }
  /** What the start of partition p knows from this process: checkpoint offset and offset handed to training. */
  known(p: number): Omit<KnownPositions, 'committed'> {
    return { checkpoint: this.durable[this.key(p)], handed: this.handed.get(p) };
  }

  /** Partition p starts at `start`, which is also its commit floor. */
  start(p: number, start: number): void {
    this.position.set(p, start);
    this.floor.set(p, start);
  }
  /** Rows of p up to `next` (exclusive) were queued or dead-lettered. */
  advance(p: number, next: number): void {
    this.position.set(p, next);
  }
  /**
   * Partition p ended before its position (topic deleted and recreated, or truncated):
   * start again at `first`, forgetting the old topic's handed and checkpoint offsets; the
   * trainer's offsets for p are ignored until it trains a row of the new topic.
   */
  reset(p: number, first: number): void {
    this.start(p, first);
    this.handed.delete(p);
    delete this.durable[this.key(p)];
    this.staleNext.add(p);
  }
  /** The row at `next - 1` of partition p was handed to training. */
  handedTo(p: number, next: number): void {
    this.handed.set(p, next);
    if (this.staleNext.size) this.staleNext.delete(p);
  }
  /** Rows of p from `offset` on went back to the queue untrained (a train.maxExamples cut). */
  returned(p: number, offset: number): void {
    this.handed.set(p, offset);
  }

  /** Records partition p's high watermark (from a fetched batch). */
  setHighWater(p: number, highWater: number): void {
    this.highWater.set(p, highWater);
  }
  /** Assigned partitions with neither a resolved start nor an expected one. */
  unestimated(): number[] {
    return [...this.assigned].filter((p) => !this.position.has(p) && !this.expectedStart.has(p));
  }
  /** Partition p, not started yet, is expected to start at `start`; `high`: its high watermark unless one is known. */
  estimated(p: number, high: number, start: number): void {
    if (!this.highWater.has(p)) this.highWater.set(p, high);
    this.expectedStart.set(p, start);
  }

  /**
   * Where partition p may be committed after a checkpoint: its oldest queued row, else its
   * position (every message below is trained or dead-lettered, so trailing bad messages
   * are not read again); undefined when not started.
   */
  committable(p: number, firstQueued: ReadonlyMap<number, number>): number | undefined {
    return firstQueued.get(p) ?? this.position.get(p);
  }

  /**
   * A new assignment `now` (kafkajs GROUP_JOIN). Revoked partitions keep their committable
   * offset for their release, and those started are released at the next checkpoint (one
   * never started has no mark of ours to release, and our old positions may be stale);
   * newly assigned ones forget earlier state.
   * @returns `revoked` (whose queued rows the caller drops) and `seek`: kept partitions with
   *   a position, where fetching must continue (kafkajs restarts them at the committed offset).
   */
  assign(
    now: Iterable<number>,
    firstQueued: ReadonlyMap<number, number>,
  ): { revoked: number[]; seek: { partition: number; offset: number }[] } {
    const next = new Set(now);
    const revoked: number[] = [],
      seek: { partition: number; offset: number }[] = [];
    for (const p of this.assigned) {
      if (next.has(p)) continue;
      const started = this.position.has(p);
      const at = this.committable(p, firstQueued);
      if (at !== undefined) this.releaseAt.set(p, at);
      this.position.delete(p);
      this.floor.delete(p);
      if (started) this.released.add(p);
      revoked.push(p);
    }
    for (const p of next) {
      if (this.assigned.has(p)) {
        const offset = this.position.get(p);
        if (offset !== undefined) seek.push({ partition: p, offset });
      } else {
        this.released.delete(p);
        this.position.delete(p);
        this.floor.delete(p);
        this.highWater.delete(p);
        this.expectedStart.delete(p);
      }
    }
    this.assigned = next;
    return { revoked, seek };
  }

  /**
   * A durable checkpoint holds `next` (the trainer's next offsets by position key): they
   * become the checkpoint offsets, except those of partitions reset since (staleNext).
   * @returns `next` without the stale partitions' keys.
   */
  checkpointed(next: Record<string, number>): Record<string, number> {
    const fresh = (k: string) => !this.staleNext.has(partitionOf(k));
    for (const [k, v] of Object.entries(next)) if (isKeyOf(k, this.source) && fresh(k)) this.durable[k] = v;
    return Object.fromEntries(Object.entries(next).filter(([k]) => fresh(k)));
  }

  /**
   * The commits after a checkpoint of `next` (as returned by checkpointed()): each started
   * assigned partition at the largest of its checkpoint offset, floor and committable
   * offset (`held`, or `released` when the source is closing); each partition to release at
   * the largest of its checkpoint offset and committable offset at revocation (`released`).
   * @returns the commits and the partitions being released (pass them to releasesDone()).
   */
  commitsAfterCheckpoint(
    next: Record<string, number>,
    firstQueued: ReadonlyMap<number, number>,
    closing: boolean,
  ): { commits: PlannedCommit[]; releasing: number[] } {
    const commits: PlannedCommit[] = [];
    for (const p of this.assigned) {
      const k = this.key(p);
      const o = startOffset(next[k], this.floor.get(p), this.durable[k], this.committable(p, firstQueued));
      if (o === null || !this.position.has(p)) continue;
      commits.push({ partition: p, offset: o, state: closing ? 'released' : 'held' });
    }
    const releasing = [...this.released];
    for (const p of releasing) {
      const at = this.releaseAt.get(p);
      const o = at === undefined ? null : startOffset(next[this.key(p)], this.durable[this.key(p)], at);
      if (o !== null) commits.push({ partition: p, offset: o, state: 'released' });
    }
    return { commits, releasing };
  }

  /** The partitions `ps` were released (their commits went through, or there was nothing to commit). */
  releasesDone(ps: readonly number[]): void {
    for (const p of ps) {
      this.released.delete(p);
      this.releaseAt.delete(p);
    }
  }
  /** Committing failed at `nowMs`: releases are wanted again no sooner than 1 s later. */
  commitFailed(nowMs: number): void {
    this.releaseRetryAt = nowMs + 1000;
  }
  /** True when partitions wait for their release and a commit may be tried (a checkpoint is wanted). */
  releaseWanted(nowMs: number): boolean {
    return this.released.size > 0 && nowMs >= this.releaseRetryAt;
  }

  /**
   * Lag of the assigned partitions with a known high watermark: high watermark minus the
   * committable offset (else the expected start of one not started yet), at least 0, messages.
   */
  lag(firstQueued: ReadonlyMap<number, number>): { partition: number; lag: number }[] {
    const at = (p: number) => this.committable(p, firstQueued) ?? this.expectedStart.get(p);
    return [...this.assigned]
      .filter((p) => this.highWater.has(p) && at(p) !== undefined)
      .map((p) => ({ partition: p, lag: Math.max(0, this.highWater.get(p)! - at(p)!) }));
  }
}
