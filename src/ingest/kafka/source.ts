/**
 * The Kafka source: a kafkajs consumer in a group, decoding messages into Arrow record
 * batches whose rows carry (partition, offset); offsets are never auto-committed.
 *
 * Exactly-once (DESIGN.md "Ids, offsets and exactly-once"): positions come from the
 * trainer's checkpoint (`resume`) and the group's committed offsets, whichever is further
 * (see ownership.ts for hand-overs between trainers); rows below a partition's position
 * are dropped, so a re-delivery after a rebalance or retry is never trained twice. The
 * trainer calls `checkpointed()` after each durable checkpoint and only then are offsets
 * committed. Rows queued for a partition that is revoked are dropped untrained; the
 * partition is then released by the next checkpoint (`checkpointWanted()`).
 *
 * Bad messages are counted by reason, sent to `kafka.deadLetterTopic` with the original
 * key and bytes and headers `lionctr-reason`, `lionctr-error`, `lionctr-topic`,
 * `lionctr-partition`, `lionctr-offset`, and skipped. Backpressure: above
 * `kafka.queueMaxRows` queued rows the consumer pauses fetching, below half it resumes;
 * kafkajs heartbeats on its own timer, so long steps keep the membership.
 */
import { Partitioners, type Consumer, type EachBatchPayload, type Producer, type Admin, type IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import type { RecordBatch } from 'apache-arrow';
import { LionctrError } from '../../errors.ts';
import { RecordBatchBuilder, type DecodedRow, type ResumePoint, type SlotSchema, type Source } from '../source.ts';
import { createKafka, type KafkaSection } from './client.ts';
import { createMessageDecoder, type MessageFormat } from './message-decoder.ts';
import { decodeMark, encodeMark, handOver, startOffset } from './ownership.ts';

/** Options of createKafkaSource. */
export interface KafkaSourceOptions {
  kafka: KafkaSection;
  schema: SlotSchema;
  /** The checkpoint's positions, or null on a fresh start. */
  resume: ResumePoint | null;
  logger: Logger;
}

/** Consumer lag of one partition: high watermark minus the next offset handed to training, messages. */
export interface PartitionLag { topic: string; partition: number; lag: number }

/** A Source with Kafka's extras. */
export interface KafkaSource extends Source {
  /** Per assigned partition, the lag behind the high watermark (messages). */
  lag(): PartitionLag[];
}

interface Queued { p: number; o: number; row: DecodedRow; at: number }

/**
 * Creates the Kafka source of `opts.kafka` (topic, group, decoder, dead-letter topic).
 * Nothing connects until batches() is iterated. batches() throws LionctrError
 * LIONCTR_BAD_CONFIG when the topic (or the dead-letter topic) does not exist, and the
 * consumer's error when kafkajs gives up (broker gone past its retries).
 */
export function createKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const k = opts.kafka, log = opts.logger, topic = k.topic;
  const name = `kafka:${topic}`;
  const key = (p: number) => `${name}/${p}`;
  const decode = createMessageDecoder(k.format as MessageFormat, opts.schema, k.maxMessageBytes,
    (slot, where) => log.warn({ slot, where }, `messages carry slot "${slot}", which the schema does not have; it is ignored (first seen at ${where})`));
  const client = createKafka(k, log);
  let consumer: Consumer | null = null;
  let producer: Producer | null = null;
  let admin: Admin | null = null;

  let memberId = '';
  let generation = 0;
  let assigned = new Set<number>();
  const released = new Set<number>();
  /** Next offset to enqueue, per partition whose start is resolved. */
  const position = new Map<number, number>();
  /** Next offset after the rows handed to the trainer (trained in this process). */
  const handed = new Map<number, number>();
  /** Start resolved at assignment; commits never go below it. */
  const floor = new Map<number, number>();
  const durable: Record<string, number> = { ...(opts.resume?.nextOffsets ?? {}) };
  const highWater = new Map<number, number>();
  /**
   * Where an assigned partition whose start is not resolved yet (that happens at its first
   * fetched batch, and kafkajs hands over no empty ones) will start, as far as known: for
   * its lag while it is caught up.
   */
  const expectedStart = new Map<number, number>();
  let queue: Queued[] = [];
  let head = 0;
  let paused = false, closing = false, releaseRetryAt = 0;
  let rows = 0;
  /** Times the consumer paused fetching for backpressure. */
  let pauses = 0;
  const bad: Record<string, number> = {};
  let wake: () => void = () => {};

  const queued = () => queue.length - head;
  /** Per partition, the offset of its oldest queued (untrained) row. */
  function firstQueued(): Map<number, number> {
    const m = new Map<number, number>();
    for (let i = head; i < queue.length; i++) if (!m.has(queue[i].p)) m.set(queue[i].p, queue[i].o);
    return m;
  }
  /**
   * Where partition p may be committed after a checkpoint: every message below is trained
   * (in the checkpoint) or dead-lettered, so trailing bad messages are not read again.
   */
  const committable = (p: number, fq: Map<number, number>) => fq.get(p) ?? position.get(p);
  /** Committable offset of a revoked partition at the moment it was revoked. */
  const releaseAt = new Map<number, number>();
  const mark = (state: 'held' | 'released') => encodeMark({ owner: memberId, state });

  function dropQueued(p: number): number {
    const keep = queue.slice(head).filter((q) => q.p !== p);
    const dropped = queued() - keep.length;
    queue = keep; head = 0;
    return dropped;
  }

  async function committedOf(p: number): Promise<{ offset: number | null; metadata: string | null }> {
    const res = await admin!.fetchOffsets({ groupId: k.groupId, topics: [topic] });
    const e = res.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === p);
    const off = e ? Number(e.offset) : -1;
    return { offset: off >= 0 ? off : null, metadata: e?.metadata ?? null };
  }

  async function liveMembers(): Promise<Set<string>> {
    const { groups } = await admin!.describeGroups([k.groupId]);
    return new Set((groups[0]?.members ?? []).map((m) => m.memberId));
  }

  /**
   * A start offset moved into a partition's offsets [low, high] like Kafka's
   * auto.offset.reset: below low (records expired) to low; past high (topic recreated or
   * truncated) to the reset policy's end.
   */
  const inRange = (start: number, low: number, high: number) => (start < low ? low : start > high ? (k.fromBeginning ? low : high) : start);

  /** Resolves where partition p starts, waiting for a live previous owner to release it. */
  async function resolveStart(p: number, heartbeat: () => Promise<void>, firstFetched: number | null): Promise<void> {
    const deadline = Date.now() + k.releaseWaitMs;
    let waited = false;
    for (;;) {
      const c = await committedOf(p);
      const m = decodeMark(c.metadata);
      const timedOut = Date.now() > deadline;
      if (handOver(m, memberId, await liveMembers()) === 'start' || timedOut) {
        if (timedOut) log.warn({ partition: p, owner: m?.owner }, `${topic}/${p}: previous owner did not release it within kafka.releaseWaitMs=${k.releaseWaitMs}; starting at its committed offset`);
        else if (waited) log.info({ partition: p }, `${topic}/${p}: released by its previous owner`);
        let durableStart = startOffset(c.offset, durable[key(p)]);
        if (durableStart === null) {
          const offs = await admin!.fetchTopicOffsets(topic);
          const o = offs.find((x) => x.partition === p);
          // the latest end is where the consumer began fetching at its join: the first
          // fetched message (the end now already counts the batch in hand, which would be skipped)
          durableStart = Number(k.fromBeginning ? o?.low ?? 0 : firstFetched ?? o?.high ?? 0);
        }
        let start = startOffset(durableStart, handed.get(p))!;
        const range = (await admin!.fetchTopicOffsets(topic)).find((x) => x.partition === p);
        const low = Number(range?.low ?? 0), high = Number(range?.high ?? 0);
        if (start > high || start < low) {
          // like Kafka's auto.offset.reset for an out-of-range position: the topic was
          // recreated or truncated (start > high), or retention deleted the records (start < low)
          const reset = inRange(start, low, high);
          log.error({ partition: p, start, low, high, reset }, `${topic}/${p}: position ${start} is outside the partition's offsets [${low}, ${high}] (topic recreated or truncated, or records expired); continuing at ${reset}`);
          start = reset;
          durableStart = Math.min(durableStart, reset);
        }
        // mark the partition as ours at a durable position, so a later owner waits for our release
        await consumer!.commitOffsets([{ topic, partition: p, offset: String(durableStart), metadata: mark('held') }]);
        position.set(p, start);
        floor.set(p, start);
        log.info({ partition: p, start, committed: c.offset, checkpoint: durable[key(p)] ?? null }, `${topic}/${p}: assigned, starting at offset ${start}`);
        return;
      }
      if (!waited) log.info({ partition: p, owner: m!.owner }, `${topic}/${p}: waiting for its previous owner to checkpoint and release it`);
      waited = true;
      await new Promise((r) => setTimeout(r, 200));
      await heartbeat(); // throws when a new rebalance starts; kafkajs then rejoins
    }
  }

  async function eachBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    const p = batch.partition;
    const gen = generation;
    if (!assigned.has(p) || closing) return;
    if (!position.has(p)) {
      await resolveStart(p, heartbeat, batch.messages.length ? Number(batch.messages[0].offset) : null);
      if (gen !== generation) return;
    }
    const hw = Number(batch.highWatermark);
    highWater.set(p, hw);
    let pos = position.get(p)!;
    if (pos > hw) {
      // the partition ends before our position: the topic was deleted and recreated (or
      // truncated) while we ran; kafkajs reset its fetch position, we must too
      const first = batch.messages.length ? Number(batch.messages[0].offset) : 0;
      log.error({ partition: p, position: pos, highWatermark: hw, reset: first }, `${topic}/${p}: position ${pos} is past the end of the partition (${hw}): topic recreated or truncated; continuing at ${first}`);
      const dropped = dropQueued(p);
      if (dropped) log.warn({ partition: p, dropped }, `${topic}/${p}: ${dropped} queued rows of the old topic dropped`);
      pos = first;
      position.set(p, pos); floor.set(p, pos); handed.delete(p); delete durable[key(p)];
      staleNext.add(p); // the trainer's position for p is of the old topic until it trains a new row
    }
    const good: Queued[] = [];
    const dead: { key: Buffer | null; value: Buffer | null; headers: IHeaders }[] = [];
    const now = Date.now();
    for (const msg of batch.messages) {
      const off = Number(msg.offset);
      if (off < pos) continue; // already queued or trained
      const where = `${topic}/${p}@${off}`;
      const d = decode(msg.value, Number(msg.timestamp), where);
      if (d.ok) good.push({ p, o: off, row: d.row, at: now });
      else {
        bad[d.reason] = (bad[d.reason] ?? 0) + 1;
        if (bad[d.reason] <= 5) log.warn({ reason: d.reason, where }, `bad message [${d.reason}] sent to ${k.deadLetterTopic || 'nowhere (no dead-letter topic)'}: ${d.error}${bad[d.reason] === 5 ? ' (further ones with this reason are only counted)' : ''}`);
        dead.push({ key: msg.key, value: msg.value, headers: {
          'lionctr-reason': d.reason, 'lionctr-error': d.error.slice(0, 1000), 'lionctr-topic': topic, 'lionctr-partition': String(p), 'lionctr-offset': String(off),
        } });
      }
      pos = off + 1;
    }
    // bad ones reach the dead-letter topic before any later row can be trained and committed
    if (dead.length && producer) await producer.send({ topic: k.deadLetterTopic, acks: -1, messages: dead });
    if (gen !== generation && !assigned.has(p)) return;
    for (const g of good) queue.push(g);
    rows += good.length;
    position.set(p, pos);
    if (!paused && queued() > k.queueMaxRows) { consumer!.pause([{ topic }]); paused = true; pauses++; }
    wake();
  }

  function onAssignment(payload: { memberId: string; memberAssignment: Record<string, number[]> }): void {
    memberId = payload.memberId;
    generation++;
    const now = new Set(payload.memberAssignment[topic] ?? []);
    const fq = firstQueued();
    for (const p of assigned) {
      if (now.has(p)) continue;
      const started = position.has(p);
      const at = committable(p, fq);
      if (at !== undefined) releaseAt.set(p, at);
      const dropped = dropQueued(p);
      position.delete(p); floor.delete(p);
      // a partition we never started in this assignment has no mark of ours to release,
      // and our old positions for it may be stale (another trainer went further since)
      if (started) released.add(p);
      log.info({ partition: p, dropped }, `${topic}/${p}: revoked (${dropped} queued rows dropped untrained); releasing it at the next checkpoint`);
    }
    for (const p of now) {
      if (assigned.has(p)) {
        // kept: kafkajs restarts it at the committed offset; continue where we are instead
        const pos = position.get(p);
        if (pos !== undefined) consumer!.seek({ topic, partition: p, offset: String(pos) });
      } else {
        released.delete(p); position.delete(p); floor.delete(p); highWater.delete(p); expectedStart.delete(p);
      }
    }
    assigned = now;
    log.info({ memberId, partitions: [...now] }, `${topic}: assigned partitions [${[...now].join(', ')}]`);
    estimateMissing(true);
    wake();
  }

  let estimating = false, estimatedAt = 0;
  /**
   * Runs estimateStarts for the assigned partitions that have neither a resolved start nor
   * an estimate: at an assignment (`now`), and from lag() at most every 5 s after one that
   * failed (a broker outage). One at a time.
   */
  function estimateMissing(now = false): void {
    const ps = [...assigned].filter((p) => !position.has(p) && !expectedStart.has(p));
    if (!ps.length || estimating || (!now && Date.now() - estimatedAt < 5000)) return;
    estimating = true; estimatedAt = Date.now();
    void estimateStarts(ps).finally(() => { estimating = false; });
  }

  /**
   * The high watermarks of assigned partitions not started yet and where each will start
   * (committed offset or checkpoint, else the reset policy's end), so that lag() reports
   * them before their first message: a caught-up partition fetches no batch. On a broker
   * error estimateMissing() tries again (or their first batch tells).
   */
  async function estimateStarts(ps: number[]): Promise<void> {
    try {
      const [offs, committed] = await Promise.all([admin!.fetchTopicOffsets(topic), admin!.fetchOffsets({ groupId: k.groupId, topics: [topic] })]);
      for (const p of ps) {
        const range = offs.find((x) => x.partition === p);
        if (!range || !assigned.has(p) || position.has(p)) continue;
        const c = committed.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === p);
        const high = Number(range.high), low = Number(range.low);
        // as resolveStart will: committed offset or checkpoint (else the reset policy's end),
        // the offset this process already reached, moved into range
        const start = startOffset(startOffset(c ? Number(c.offset) : null, durable[key(p)]) ?? (k.fromBeginning ? low : high), handed.get(p))!;
        if (!highWater.has(p)) highWater.set(p, high);
        expectedStart.set(p, inRange(start, low, high));
      }
    } catch (e) {
      log.debug({ err: (e as Error).message }, `${topic}: high watermarks of assigned partitions not read (${(e as Error).message}); trying again in 5 s`);
    }
  }

  async function connect(): Promise<void> {
    admin = client.admin();
    let existing: Set<string>;
    try {
      await admin.connect();
      existing = new Set(await admin.listTopics());
    } catch (e) {
      throw new LionctrError('LIONCTR_BAD_CONFIG', `cannot reach Kafka at ${k.brokers.join(',')}: ${(e as Error).message}`, { where: 'kafka.brokers', cause: e });
    }
    if (!existing.has(topic)) throw new LionctrError('LIONCTR_BAD_CONFIG', `Kafka topic "${topic}" does not exist on ${k.brokers.join(',')}`, { where: 'kafka.topic' });
    if (k.deadLetterTopic && !existing.has(k.deadLetterTopic)) throw new LionctrError('LIONCTR_BAD_CONFIG', `dead-letter topic "${k.deadLetterTopic}" does not exist on ${k.brokers.join(',')} (create it, or set kafka.deadLetterTopic to "" to only count bad messages)`, { where: 'kafka.deadLetterTopic' });
    if (k.deadLetterTopic) {
      producer = client.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
    }
    await startConsumer();
  }

  async function startConsumer(): Promise<void> {
    const c = client.consumer({
      groupId: k.groupId, sessionTimeout: k.sessionTimeoutMs, heartbeatInterval: k.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, 2 * k.releaseWaitMs), allowAutoTopicCreation: false, maxWaitTimeInMs: 250,
    });
    consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => onAssignment(e.payload as never));
    c.on(c.events.CRASH, (e) => {
      // kafkajs restarts itself after retriable errors; after the others (broker gone past
      // its retries) we start a new consumer, so that training and serving live on
      if (!e.payload.restart && !closing) void restartConsumer(e.payload.error);
    });
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: k.fromBeginning });
    await c.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachBatch });
  }

  let restarting = false;
  async function restartConsumer(err: Error): Promise<void> {
    if (restarting) return;
    restarting = true;
    let wait = 1000;
    log.error({ err: err.message }, `${topic}: the Kafka consumer stopped (${err.message}); reconnecting to ${k.brokers.join(',')}`);
    while (!closing) {
      await consumer?.disconnect().catch(() => {});
      await new Promise((r) => setTimeout(r, wait));
      if (closing) break;
      try {
        await startConsumer();
        log.info(`${topic}: Kafka consumer reconnected`);
        break;
      } catch (e) {
        wait = Math.min(30_000, wait * 2);
        log.error({ err: (e as Error).message }, `${topic}: reconnecting failed (${(e as Error).message}); next try in ${wait / 1000} s`);
      }
    }
    restarting = false;
  }

  let lastTaken: Queued[] = [];
  /** Partitions reset (topic recreated) whose trainer positions are still the old topic's. */
  const staleNext = new Set<number>();
  function take(n: number, schema: SlotSchema): RecordBatch {
    const b = new RecordBatchBuilder(schema, n, { source: name });
    lastTaken = queue.slice(head, head + n);
    for (let i = 0; i < n; i++) {
      const q = queue[head++];
      b.pushRow(q.row, q.p, q.o);
      handed.set(q.p, q.o + 1);
      if (staleNext.size) staleNext.delete(q.p);
    }
    if (head > 65536 && head * 2 > queue.length) { queue = queue.slice(head); head = 0; }
    if (paused && queued() <= k.queueMaxRows / 2) { consumer!.resume([{ topic }]); paused = false; }
    return b.finish();
  }

  const wantsCheckpoint = () => released.size > 0 && Date.now() >= releaseRetryAt;

  return {
    name,
    stats: () => ({ rows, bad: { ...bad } }),
    backpressurePauses: () => pauses,
    checkpointWanted: wantsCheckpoint,
    untrained(n: number): void {
      // back to the head of the queue, in order: they are not trained, nor committable
      const back = lastTaken.slice(lastTaken.length - n);
      queue = [...back, ...queue.slice(head)]; head = 0;
      const firstBack = new Map<number, number>();
      for (const q of back) if (!firstBack.has(q.p)) firstBack.set(q.p, q.o);
      for (const [p, o] of firstBack) handed.set(p, o);
      lastTaken = [];
    },
    lag: () => {
      estimateMissing();
      const fq = firstQueued();
      const at = (p: number) => committable(p, fq) ?? expectedStart.get(p);
      return [...assigned].filter((p) => highWater.has(p) && at(p) !== undefined).map((p) => ({ topic, partition: p, lag: Math.max(0, highWater.get(p)! - at(p)!) }));
    },

    async checkpointed(next: Record<string, number>): Promise<void> {
      const fresh = (kk: string) => !staleNext.has(Number(kk.slice(kk.lastIndexOf('/') + 1)));
      for (const [kk, v] of Object.entries(next)) if (kk.startsWith(`${name}/`) && fresh(kk)) durable[kk] = v;
      next = Object.fromEntries(Object.entries(next).filter(([kk]) => fresh(kk)));
      if (!consumer || !memberId) return;
      const commits: { topic: string; partition: number; offset: string; metadata: string }[] = [];
      const fq = firstQueued();
      const at = (p: number) => startOffset(next[key(p)], floor.get(p), durable[key(p)], committable(p, fq));
      for (const p of assigned) {
        const o = at(p);
        if (o !== null && position.has(p)) commits.push({ topic, partition: p, offset: String(o), metadata: mark(closing ? 'released' : 'held') });
      }
      const releasing = [...released];
      for (const p of releasing) {
        const o = releaseAt.get(p) === undefined ? null : startOffset(next[key(p)], durable[key(p)], releaseAt.get(p));
        if (o !== null) commits.push({ topic, partition: p, offset: String(o), metadata: mark('released') });
      }
      if (!commits.length) { releasing.forEach((p) => released.delete(p)); return; }
      try {
        await consumer.commitOffsets(commits);
        releasing.forEach((p) => { released.delete(p); releaseAt.delete(p); });
        if (releasing.length) log.info({ partitions: releasing }, `${topic}: released partitions [${releasing.join(', ')}] after a checkpoint`);
      } catch (e) {
        releaseRetryAt = Date.now() + 1000;
        log.warn({ err: (e as Error).message }, `${topic}: committing offsets failed (${(e as Error).message}); will retry after the next checkpoint`);
      }
    },

    async *batches({ batchSize, signal }) {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new LionctrError('LIONCTR_BAD_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, { where: 'batchSize' });
      // a stop signal during start-up (a broker that does not answer) need not wait out the retries
      const connecting = connect();
      connecting.catch(() => {}); // observed by the race below, or abandoned after a stop
      const stopped = new Promise<'stopped'>((res) => { if (signal?.aborted) res('stopped'); else signal?.addEventListener('abort', () => res('stopped'), { once: true }); });
      if ((await Promise.race([connecting.then(() => 'connected' as const), stopped])) === 'stopped') return;
      const empty = () => new RecordBatchBuilder(opts.schema, 1).finish();
      let idleSince = Date.now();
      try {
        while (!signal?.aborted) {
          const n = queued();
          const age = n > 0 ? Date.now() - queue[head].at : 0;
          if (n >= batchSize || (n > 0 && age >= k.lingerMs)) {
            yield take(Math.min(n, batchSize), opts.schema);
            idleSince = Date.now();
            continue;
          }
          if (wantsCheckpoint() || Date.now() - idleSince >= 1000) {
            idleSince = Date.now();
            yield empty(); // lets the trainer checkpoint, export and report while idle
            continue;
          }
          const waitMs = n > 0 ? k.lingerMs - age : 1000 - (Date.now() - idleSince);
          await new Promise<void>((res) => {
            const t = setTimeout(done, Math.max(1, waitMs));
            const onAbort = () => done();
            signal?.addEventListener('abort', onAbort, { once: true });
            function done() { clearTimeout(t); signal?.removeEventListener('abort', onAbort); wake = () => {}; res(); }
            wake = done;
          });
        }
      } finally {
        closing = true;
      }
    },

    async close(): Promise<void> {
      closing = true;
      await consumer?.disconnect().catch((e: Error) => log.warn(`kafka consumer disconnect: ${e.message}`));
      await producer?.disconnect().catch(() => {});
      await admin?.disconnect().catch(() => {});
    },
  };
}
