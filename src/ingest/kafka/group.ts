/**
 * The Kafka source in its consumer group (kafkajs' `consumerGroup.js` part): new
 * assignments (revoked partitions drop their queued rows and are released at the next
 * checkpoint; kept ones continue where they are), the start of a partition at its first
 * fetched batch after waiting for a live previous owner to release it (ownership.ts), and
 * the commits after each checkpoint, every one with an ownership mark.
 */
import type { Logger } from 'pino';
import type { KafkaSection } from './config.ts';
import type { KafkaConnection } from './connection.ts';
import type { LagEstimator } from './lag.ts';
import { OffsetResets } from './offset-reset.ts';
import { decodeMark, encodeMark, handOver, type OwnerMark } from './ownership.ts';
import { plannedStart, type PartitionPositions, type PlannedCommit } from './positions.ts';
import type { RowQueue } from './row-queue.ts';

/** This trainer's membership of the group (see the module doc). */
export class GroupMember {
  /** Our member id, from the last group join ('' before the first). */
  memberId = '';
  /** Counts assignments: a start resolved under an older one is not used. */
  generation = 0;
  /** The periodic commit in flight, if any (see checkpointed). */
  private inFlight: Promise<void> | null = null;
  /** The newest periodic commit waiting for the one in flight. */
  private waiting: PlannedCommit[] | null = null;

  constructor(
    private readonly k: KafkaSection,
    private readonly log: Logger,
    private readonly conn: KafkaConnection,
    private readonly positions: PartitionPositions,
    private readonly queue: RowQueue,
    private readonly lag: LagEstimator,
    private readonly wake: () => void,
    private readonly resets = new OffsetResets(k.groupId, k.topic, k.offsetReset, log),
  ) {}

  private mark(state: OwnerMark['state']): string {
    return encodeMark({ owner: this.memberId, state });
  }

  /** A group join with our new assignment (kafkajs GROUP_JOIN). */
  onAssignment(payload: { memberId: string; memberAssignment: Record<string, number[]> }): void {
    const topic = this.k.topic,
      log = this.log;
    this.memberId = payload.memberId;
    this.generation++;
    const now = payload.memberAssignment[topic] ?? [];
    const { revoked, seek } = this.positions.assign(now, this.queue.firstQueued());
    for (const p of revoked) {
      const dropped = this.queue.drop(p);
      log.info(
        { partition: p, dropped },
        `${topic}/${p}: revoked (${dropped} queued rows dropped untrained); releasing it at the next checkpoint`,
      );
    }
    // kept: kafkajs restarts it at the committed offset; continue where we are instead
    for (const s of seek) this.conn.consumer!.seek({ topic, partition: s.partition, offset: String(s.offset) });
    const ps = [...this.positions.assigned];
    log.info({ memberId: this.memberId, partitions: ps }, `${topic}: assigned partitions [${ps.join(', ')}]`);
    this.lag.estimateMissing(true);
    this.wake();
  }

  /**
   * Resolves where partition p starts (plannedStart), waiting (polling every 200 ms) for a
   * live previous owner to release it, at most `kafka.releaseWaitMs`; then commits a `held`
   * mark at its durable start, so that a later owner waits for our release.
   * A position outside the partition's offsets moves by `kafka.offsetReset` (OffsetResets).
   * @param heartbeat kafkajs' heartbeat; throws when a new rebalance starts (kafkajs then rejoins).
   * @param firstFetched offset of the first message of the batch in hand, or null.
   * @returns true when fetching was sought back to the start (the batch in hand is past it: drop it).
   * @throws LionctrError LIONCTR_BAD_INPUT for an out-of-range position under `kafka.offsetReset=fail`.
   */
  async resolveStart(p: number, heartbeat: () => Promise<void>, firstFetched: number | null): Promise<boolean> {
    const k = this.k,
      topic = k.topic,
      log = this.log,
      conn = this.conn;
    const deadline = Date.now() + k.releaseWaitMs;
    let waited = false;
    for (;;) {
      const c = (await conn.committed()).get(p) ?? { offset: null, metadata: null };
      const m = decodeMark(c.metadata);
      const timedOut = Date.now() > deadline;
      if (handOver(m, this.memberId, await conn.liveMembers()) === 'start' || timedOut) {
        if (timedOut) {
          log.warn(
            { partition: p, owner: m?.owner },
            `${topic}/${p}: previous owner did not release it within ` +
              `kafka.releaseWaitMs=${k.releaseWaitMs}; starting at its committed offset`,
          );
        } else if (waited) log.info({ partition: p }, `${topic}/${p}: released by its previous owner`);
        // none committed where there was one: kafkajs reset it, out of range (connection.ts)
        const known = { committed: c.offset ?? conn.committedEarlier(p), ...this.positions.known(p) };
        const range = (await conn.ranges()).get(p) ?? { low: 0, high: 0 };
        const planned = plannedStart(known, range, k.fromBeginning, firstFetched, k.offsetReset);
        const { requested, durableStart } = planned;
        // out of range: kafka.offsetReset (Kafka's auto.offset.reset), counted; `fail` throws
        const start = planned.start === requested ? requested : this.resets.reset(p, requested, range, 'position');
        const held = { topic, partition: p, offset: String(durableStart), metadata: this.mark('held') };
        await conn.consumer!.commitOffsets([held]);
        this.positions.start(p, start);
        // kafkajs reset its fetch position by `fromBeginning`: one past ours would skip messages
        const seek = start !== requested && (firstFetched === null || start < firstFetched);
        if (seek) conn.consumer!.seek({ topic, partition: p, offset: String(start) });
        log.info(
          { partition: p, start, committed: c.offset, checkpoint: this.positions.known(p).checkpoint ?? null },
          `${topic}/${p}: assigned, starting at offset ${start}`,
        );
        return seek;
      }
      if (!waited) {
        log.info(
          { partition: p, owner: m!.owner },
          `${topic}/${p}: waiting for its previous owner to checkpoint and release it`,
        );
      }
      waited = true;
      await new Promise((r) => setTimeout(r, 200));
      await heartbeat(); // throws when a new rebalance starts; kafkajs then rejoins
    }
  }

  /**
   * After a durable checkpoint of `next` (next offsets by position key): commits the
   * partitions held (PartitionPositions.commitsAfterCheckpoint) and releases the revoked
   * ones. A periodic commit runs in the background (resolves at once): a broker gone away
   * makes kafkajs retry a commit for ~20 s, which must not stall training (issue 17); one is in
   * flight at a time, and a newer one waiting replaces an older (offsets only grow). A release
   * and the last commits (closing) are awaited, after the one in flight. A failed commit is
   * logged and retried after the next checkpoint (never thrown).
   */
  async checkpointed(next: Record<string, number>): Promise<void> {
    const fresh = this.positions.checkpointed(next);
    if (!this.conn.consumer || !this.memberId) return;
    const fq = this.queue.firstQueued();
    const { commits, releasing } = this.positions.commitsAfterCheckpoint(fresh, fq, this.conn.closing);
    if (!commits.length) {
      this.positions.releasesDone(releasing);
      return;
    }
    if (releasing.length || this.conn.closing) {
      this.waiting = null; // these commit every partition held, newer than a waiting one
      await this.inFlight;
      await this.commit(commits, releasing);
      return;
    }
    if (this.inFlight) this.waiting = commits;
    else this.inFlight = this.commitInBackground(commits);
  }

  /** Commits `first`, then whatever newer commit waits meanwhile, one at a time. */
  private async commitInBackground(first: PlannedCommit[]): Promise<void> {
    let c: PlannedCommit[] | null = first;
    while (c && this.conn.consumer) {
      await this.commit(c, []);
      c = this.waiting;
      this.waiting = null;
    }
    this.inFlight = null;
  }

  /** Commits `commits` with their ownership marks; then `releasing` are released. Never throws. */
  private async commit(commits: PlannedCommit[], releasing: number[]): Promise<void> {
    const topic = this.k.topic;
    try {
      await this.conn.consumer!.commitOffsets(
        commits.map((c) => ({ topic, partition: c.partition, offset: String(c.offset), metadata: this.mark(c.state) })),
      );
      this.positions.releasesDone(releasing);
      if (releasing.length) {
        this.log.info(
          { partitions: releasing },
          `${topic}: released partitions [${releasing.join(', ')}] after a checkpoint`,
        );
      }
    } catch (e) {
      this.positions.commitFailed(Date.now());
      const msg = (e as Error).message;
      this.log.warn({ err: msg }, `${topic}: committing offsets failed (${msg}); will retry after the next checkpoint`);
    }
  }
}
