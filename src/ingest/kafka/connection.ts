/**
 * The Kafka source's connections (kafkajs' `consumer/index.js` part): an admin client for
 * topic checks and offset queries, a producer for the dead-letter topic, and the group
 * consumer (manual commits, one partition at a time), restarted with backoff (1 s doubling
 * to 30 s) after a crash kafkajs does not restart by itself, so that training and serving live on.
 */
import { Partitioners, type Admin, type Kafka, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';
import { createKafka } from './client.ts';
import type { KafkaSection } from './config.ts';
import type { OffsetRange } from './offset-reset.ts';

/** What the consumer calls: a group join (new assignment) and each fetched batch. */
export interface ConsumerHandlers {
  onJoin(payload: { memberId: string; memberAssignment: Record<string, number[]> }): void;
  eachBatch(payload: EachBatchPayload): Promise<void>;
}

/** A partition's committed offset (null when none) and commit metadata. */
export interface Committed {
  offset: number | null;
  metadata: string | null;
}

/** Connections of one source (see the module doc). */
export class KafkaConnection {
  admin: Admin | null = null;
  producer: Producer | null = null;
  consumer: Consumer | null = null;
  /** Set once the source is stopping: no more batches are taken, no restart. */
  closing = false;
  private restarting = false;
  private readonly client: Kafka;
  /**
   * The group's committed offsets as last read before kafkajs fetched (at each consumer start
   * and group join): kafkajs replaces an out-of-range committed offset with its own reset
   * (a -2/-1 commit that reads as none), so this is where the offset it replaced is known.
   */
  private readonly committedBefore = new Map<number, number>();

  /** @throws LionctrError LIONCTR_BAD_CONFIG for a bad SASL setting (see createKafka). */
  constructor(
    private readonly k: KafkaSection,
    private readonly log: Logger,
    private readonly handlers: ConsumerHandlers,
  ) {
    this.client = createKafka(k, log);
  }

  /**
   * Connects the admin (checking that the topic and dead-letter topic exist), the producer
   * and the consumer.
   * @throws LionctrError LIONCTR_BROKER_UNAVAILABLE when Kafka cannot be reached (an outage: `run`
   *   restarts its trainer), LIONCTR_BAD_CONFIG when a topic is missing.
   */
  async connect(): Promise<void> {
    const k = this.k,
      brokers = k.brokers.join(',');
    const admin = this.client.admin();
    this.admin = admin;
    let existing: Set<string>;
    try {
      await admin.connect();
      existing = new Set(await admin.listTopics());
    } catch (e) {
      throw new LionctrError(
        'LIONCTR_BROKER_UNAVAILABLE',
        `cannot reach Kafka at ${brokers}: ${(e as Error).message}`,
        {
          where: 'kafka.brokers',
          cause: e,
        },
      );
    }
    if (!existing.has(k.topic)) {
      throw new LionctrError('LIONCTR_BAD_CONFIG', `Kafka topic "${k.topic}" does not exist on ${brokers}`, {
        where: 'kafka.topic',
      });
    }
    if (k.deadLetterTopic && !existing.has(k.deadLetterTopic)) {
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `dead-letter topic "${k.deadLetterTopic}" does not exist on ` +
          `${brokers} (create it, or set kafka.deadLetterTopic to "" to only count bad messages)`,
        { where: 'kafka.deadLetterTopic' },
      );
    }
    if (k.deadLetterTopic) {
      this.producer = this.client.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await this.producer.connect();
    }
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    const k = this.k;
    const c = this.client.consumer({
      groupId: k.groupId,
      sessionTimeout: k.sessionTimeoutMs,
      heartbeatInterval: k.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, 2 * k.releaseWaitMs),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    });
    this.consumer = c;
    await this.noteCommitted().catch(() => {}); // best effort: the consumer's own start reports an outage
    c.on(c.events.GROUP_JOIN, (e) => {
      void this.noteCommitted().catch(() => {}); // best effort: the snapshot at start stays
      this.handlers.onJoin(e.payload as never);
    });
    c.on(c.events.CRASH, (e) => {
      // kafkajs restarts itself after retriable errors; after the others (broker gone past
      // its retries) we start a new consumer, so that training and serving live on
      if (!e.payload.restart && !this.closing) void this.restart(e.payload.error);
    });
    await c.connect();
    await c.subscribe({ topics: [k.topic], fromBeginning: k.fromBeginning });
    await c.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.handlers.eachBatch(p) });
  }

  private async restart(err: Error): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    const topic = this.k.topic,
      log = this.log;
    let wait = 1000;
    log.error(
      { err: err.message },
      `${topic}: the Kafka consumer stopped (${err.message}); reconnecting to ${this.k.brokers.join(',')}`,
    );
    while (!this.closing) {
      await this.consumer?.disconnect().catch(() => {});
      await new Promise((r) => setTimeout(r, wait));
      if (this.closing) break;
      try {
        await this.startConsumer();
        log.info(`${topic}: Kafka consumer reconnected`);
        break;
      } catch (e) {
        wait = Math.min(30_000, wait * 2);
        const msg = (e as Error).message;
        log.error({ err: msg }, `${topic}: reconnecting failed (${msg}); next try in ${wait / 1000} s`);
      }
    }
    this.restarting = false;
  }

  /** The group's committed offsets of the topic, by partition. */
  async committed(): Promise<Map<number, Committed>> {
    const res = await this.admin!.fetchOffsets({ groupId: this.k.groupId, topics: [this.k.topic] });
    const parts = res.find((t) => t.topic === this.k.topic)?.partitions ?? [];
    return new Map(
      parts.map((e) => {
        const offset = Number(e.offset);
        return [e.partition, { offset: offset >= 0 ? offset : null, metadata: e.metadata ?? null }];
      }),
    );
  }

  /** Reads the committed offsets into committedBefore (partitions with none keep what was read before). */
  private async noteCommitted(): Promise<void> {
    for (const [p, c] of await this.committed()) if (c.offset !== null) this.committedBefore.set(p, c.offset);
  }

  /**
   * Partition p's committed offset as read before kafkajs last fetched (null when none): where
   * the group was when the committed offset now reads as none (kafkajs reset it out of range).
   */
  committedEarlier(p: number): number | null {
    return this.committedBefore.get(p) ?? null;
  }

  /** The offset range of each partition of the topic. */
  async ranges(): Promise<Map<number, OffsetRange>> {
    const offs = await this.admin!.fetchTopicOffsets(this.k.topic);
    return new Map(offs.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  }

  /** Member ids of the live members of the group. */
  async liveMembers(): Promise<Set<string>> {
    const { groups } = await this.admin!.describeGroups([this.k.groupId]);
    return new Set((groups[0]?.members ?? []).map((m) => m.memberId));
  }

  /** Disconnects everything (errors of the consumer logged, others ignored); no restart after. */
  async close(): Promise<void> {
    this.closing = true;
    await this.consumer?.disconnect().catch((e: Error) => this.log.warn(`kafka consumer disconnect: ${e.message}`));
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
