/**
 * Consumer lag of the Kafka source: per assigned partition, its high watermark minus the
 * next offset not yet trained (PartitionPositions.lag). A partition whose start is not
 * resolved yet (that happens at its first fetched batch, and kafkajs hands over no empty
 * ones, so a caught-up partition fetches none) gets its high watermark and expected start
 * read here at its assignment, so that its lag is known before its first message.
 */
import type { Logger } from 'pino';
import type { KafkaConnection } from './connection.ts';
import type { OffsetResetPolicy } from './offset-reset.ts';
import { plannedStart, type PartitionPositions } from './positions.ts';

/**
 * Consumer lag of one partition: high watermark minus the next offset handed to training, messages;
 * `group` is the consumer group (kafka.groupId).
 */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** Estimates the start of partitions not started yet and reports the lag (see the module doc). */
export class LagEstimator {
  private estimating = false;
  private estimatedAt = 0;

  constructor(
    private readonly group: string,
    private readonly topic: string,
    private readonly fromBeginning: boolean,
    private readonly reset: OffsetResetPolicy,
    private readonly positions: PartitionPositions,
    private readonly conn: KafkaConnection,
    private readonly log: Logger,
  ) {}

  /**
   * Lag of the assigned partitions whose high watermark is known; first retries a failed
   * estimate of partitions not started (at most every 5 s).
   * @param firstQueued per partition, the offset of its oldest queued row (RowQueue.firstQueued()).
   */
  lag(firstQueued: ReadonlyMap<number, number>): PartitionLag[] {
    this.estimateMissing();
    return this.positions.lag(firstQueued).map((l) => ({ group: this.group, topic: this.topic, ...l }));
  }

  /**
   * Runs estimateStarts for the assigned partitions that have neither a resolved start nor
   * an estimate: at an assignment (`now`), and from lag() at most every 5 s after one that
   * failed (a broker outage). One at a time.
   */
  estimateMissing(now = false): void {
    const ps = this.positions.unestimated();
    if (!ps.length || this.estimating || (!now && Date.now() - this.estimatedAt < 5000)) return;
    this.estimating = true;
    this.estimatedAt = Date.now();
    void this.estimateStarts(ps).finally(() => {
      this.estimating = false;
    });
  }

  /**
   * The high watermarks of assigned partitions not started yet and where each will start
   * (as the start will be resolved: plannedStart with no fetched message), so that lag()
   * reports them before their first message. On a broker error estimateMissing() tries
   * again (or their first batch tells).
   */
  private async estimateStarts(ps: number[]): Promise<void> {
    try {
      const [ranges, committed] = await Promise.all([this.conn.ranges(), this.conn.committed()]);
      for (const p of ps) {
        const range = ranges.get(p);
        if (!range || !this.positions.assigned.has(p) || this.positions.started(p)) continue;
        const known = { committed: committed.get(p)?.offset, ...this.positions.known(p) };
        this.positions.estimated(p, range.high, plannedStart(known, range, this.fromBeginning, null, this.reset).start);
      }
    } catch (e) {
      const msg = (e as Error).message;
      this.log.debug(
        { err: msg },
        `${this.topic}: high watermarks of assigned partitions not read (${msg}); trying again in 5 s`,
      );
    }
  }
}
