/**
 * Dead-lettering of bad Kafka messages: counted by reason, the first five per reason
 * logged, and sent to `kafka.deadLetterTopic` with the original key and value bytes and
 * headers `lionctr-reason`, `lionctr-error` (at most 1000 characters), `lionctr-topic`,
 * `lionctr-partition`, `lionctr-offset`. With no dead-letter topic they are only counted.
 * Dead-lettering is at-least-once: a message re-read after a restart (or a failed send) is sent
 * again; it is counted once per process.
 */
import type { IHeaders, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { BadReason } from '../bad-reasons.ts';

/** A message for the dead-letter topic. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Where a bad message came from and why it is bad (see message-decoder.ts for reasons). */
export interface BadMessage {
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
  offset: number;
  reason: BadReason;
  error: string;
}

/** The dead-letter message of `m`, read from `topic`. */
export function deadLetterOf(topic: string, m: BadMessage): DeadLetter {
  return {
    key: m.key,
    value: m.value,
    headers: {
      'lionctr-reason': m.reason,
      'lionctr-error': m.error.slice(0, 1000),
      'lionctr-topic': topic,
      'lionctr-partition': String(m.partition),
      'lionctr-offset': String(m.offset),
    },
  };
}

/** Counts, logs and sends the bad messages of one source topic. */
export class DeadLetters {
  /** Bad messages by reason, cumulative. */
  readonly bad: Record<string, number> = {};
  /** Per partition, the offset after the last message counted (one read again is not counted twice). */
  private readonly countedTo = new Map<number, number>();

  /**
   * @param topic the source topic.
   * @param deadLetterTopic where bad messages go ('' = nowhere).
   */
  constructor(
    private readonly topic: string,
    private readonly deadLetterTopic: string,
    private readonly log: Logger,
  ) {}

  /**
   * Counts `m` (warning for the first five of its reason) and returns its dead-letter message.
   * A message at or below one counted before in its partition (read again: kafkajs retries a
   * batch whose dead-letter send failed; a partition re-assigned) is not counted or logged again.
   */
  reject(m: BadMessage): DeadLetter {
    if (m.offset < (this.countedTo.get(m.partition) ?? 0)) return deadLetterOf(this.topic, m);
    this.countedTo.set(m.partition, m.offset + 1);
    const n = (this.bad[m.reason] ?? 0) + 1;
    this.bad[m.reason] = n;
    const where = `${this.topic}/${m.partition}@${m.offset}`;
    if (n <= 5) {
      this.log.warn(
        { reason: m.reason, where },
        `bad message [${m.reason}] sent to ` +
          `${this.deadLetterTopic || 'nowhere (no dead-letter topic)'}: ${m.error}` +
          `${n === 5 ? ' (further ones with this reason are only counted)' : ''}`,
      );
    }
    return deadLetterOf(this.topic, m);
  }

  /** Partition p starts over at lower offsets (topic recreated): its messages are new ones to count. */
  forget(p: number): void {
    this.countedTo.delete(p);
  }

  /**
   * Sends `messages` to the dead-letter topic with acks from all in-sync replicas (a no-op
   * when there are none or no producer, i.e. no dead-letter topic).
   * @throws the producer's error when the send fails past kafkajs' retries.
   */
  async send(producer: Producer | null, messages: DeadLetter[]): Promise<void> {
    if (messages.length && producer) await producer.send({ topic: this.deadLetterTopic, acks: -1, messages });
  }
}
