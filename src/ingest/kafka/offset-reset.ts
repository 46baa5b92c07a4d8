/**
 * @module What the Kafka source does with a position outside its partition's offsets, by
 * `kafka.offsetReset` (Kafka's consumer `auto.offset.reset` for an out-of-range position:
 * `earliest` -> the log start, `latest` -> the log end, `fail` -> stop, Kafka's `none`), and
 * the count of those resets and of the messages they skipped, per partition, for
 * `lionctr_kafka_offset_resets_total` and `lionctr_kafka_skipped_messages_total`.
 */
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';

/** The values of `kafka.offsetReset`. */
export const OFFSET_RESET_POLICIES = ['earliest', 'latest', 'fail'] as const;
/** What to do with an out-of-range position (see the module doc). */
export type OffsetResetPolicy = (typeof OFFSET_RESET_POLICIES)[number];

/** A partition's offsets: `low` its first, `high` its high watermark (next offset to be written). */
export interface OffsetRange {
  low: number;
  high: number;
}

/**
 * `start` when it lies in `range` (low..high, both included); else where `policy` continues:
 * `latest` -> high, `earliest` (and `fail`, whose caller refuses) -> low.
 */
export const inRange = (start: number, { low, high }: OffsetRange, policy: OffsetResetPolicy): number =>
  start >= low && start <= high ? start : policy === 'latest' ? high : low;

/**
 * Messages a reset from `requested` to `start` passes over unread: below the log start, from
 * `requested` (the expired or deleted ones, and under `latest` the retained ones too); past the
 * end (topic recreated or truncated: the old log's offsets say nothing of the new one), the new
 * log's from `low`. 0 when nothing is skipped.
 */
export const skippedBy = (requested: number, start: number, { low }: OffsetRange): number =>
  Math.max(0, start - (requested < low ? requested : low));

/** Resets of one partition, cumulative in this process. */
export interface OffsetResetCount {
  group: string;
  topic: string;
  partition: number;
  /** Out-of-range positions reset. */
  resets: number;
  /** Messages those resets passed over unread (skippedBy). */
  skipped: number;
}

/** Applies `kafka.offsetReset` to out-of-range positions of one topic, logging and counting each (module doc). */
export class OffsetResets {
  private readonly counts = new Map<number, OffsetResetCount>();

  constructor(
    private readonly group: string,
    private readonly topic: string,
    readonly policy: OffsetResetPolicy,
    private readonly log: Logger,
  ) {}

  /**
   * Partition p's position `requested` is outside `range`: where it continues (inRange),
   * counted with the messages skipped and logged as an error naming the range.
   * @param why what the position was (`committed/checkpoint position`, `position`), for the message.
   * @throws LionctrError LIONCTR_BAD_INPUT naming the partition, position and range under `fail`
   *   (nothing counted: nothing was skipped).
   */
  reset(p: number, requested: number, range: OffsetRange, why: string): number {
    const { low, high } = range;
    const where = `${this.topic}/${p}`;
    const cause = requested < low ? 'records expired or deleted' : 'topic recreated or truncated';
    const outside = `${why} ${requested} is outside the partition's offsets [${low}, ${high}] (${cause})`;
    if (this.policy === 'fail')
      throw new LionctrError(
        'LIONCTR_BAD_INPUT',
        `${where}: ${outside}, and kafka.offsetReset=fail; set it to earliest or latest, or move the group's ` +
          'offset (kafka-consumer-groups --reset-offsets) to go on',
        { where },
      );
    const start = inRange(requested, range, this.policy);
    const skipped = skippedBy(requested, start, range);
    const c = this.counts.get(p) ?? { group: this.group, topic: this.topic, partition: p, resets: 0, skipped: 0 };
    c.resets++;
    c.skipped += skipped;
    this.counts.set(p, c);
    this.log.error(
      { partition: p, start: requested, low, high, reset: start, skipped, policy: this.policy },
      `${where}: ${outside}; continuing at ${start} (kafka.offsetReset=${this.policy}), ${skipped} messages skipped`,
    );
    return start;
  }

  /** The resets of every partition reset so far (cumulative; copies). */
  all(): OffsetResetCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}
