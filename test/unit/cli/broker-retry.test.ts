/**
 * `produce` through a broker outage (src/cli/broker-retry.ts): kafkajs' errors of an unreachable
 * broker are told from bad input, retried with backoff up to the deadline, then reported as
 * LIONCTR_BROKER_UNAVAILABLE with exit status 3; other errors go through at once.
 */
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isBrokerOutage, untilBrokerBack } from '../../../src/cli/broker-retry.ts';
import { exitStatusOf, LionctrError } from '../../../src/errors.ts';

const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
/** kafkajs builds a protocol error from its error table entry (its typings say Error). */
const tooLarge = () =>
  new KafkaJSProtocolError({
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
    message: 'The request included a message larger than the max message size the server will accept',
  } as unknown as Error);

describe('isBrokerOutage', () => {
  it('is true for an unreachable broker, however kafkajs wraps it', () => {
    expect(isBrokerOutage(refused())).toBe(true);
    expect(isBrokerOutage(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'))).toBe(true);
    expect(isBrokerOutage(new KafkaJSNumberOfRetriesExceeded(refused(), { retryCount: 2, retryTime: 800 }))).toBe(true);
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isBrokerOutage(sys)).toBe(true);
  });

  it('is false for bad input and bad config', () => {
    expect(isBrokerOutage(tooLarge())).toBe(false);
    expect(isBrokerOutage(new KafkaJSNonRetriableError(tooLarge()))).toBe(false);
    expect(isBrokerOutage(new LionctrError('LIONCTR_BAD_CONFIG', 'topic "x" does not exist'))).toBe(false);
    expect(isBrokerOutage(new TypeError('bug'))).toBe(false);
  });
});

describe('untilBrokerBack', () => {
  const brokers = ['127.0.0.1:1'];

  it('retries an outage with backoff and returns once the broker is back', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const r = await untilBrokerBack(
      'sending lines 1-500',
      async () => {
        if (++calls < 5) throw refused();
        return 'sent';
      },
      { deadlineSeconds: 600, brokers, sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(r).toBe('sent');
    expect(sleeps).toEqual([500, 1000, 2000, 4000]);
  });

  it('gives up at the deadline with LIONCTR_BROKER_UNAVAILABLE (exit 3), naming what and where', async () => {
    const err = await untilBrokerBack(
      'sending lines 1-500 (0 messages sent before)',
      async () => {
        throw refused();
      },
      { deadlineSeconds: 0.3, brokers, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    ).catch((e) => e);
    expect(err).toMatchObject({ code: 'LIONCTR_BROKER_UNAVAILABLE', where: 'kafka.brokers' });
    expect(err.message).toMatch(/^sending lines 1-500 \(0 messages sent before\): no Kafka broker reachable at /);
    expect(err.message).toMatch(/ at 127\.0\.0\.1:1 for 0\.\d s \(\d tries\): Connection error/);
    expect(exitStatusOf(err)).toBe(3);
  });

  it('throws other errors at once', async () => {
    let calls = 0;
    const err = await untilBrokerBack(
      'sending',
      async () => {
        calls++;
        throw new KafkaJSNonRetriableError(tooLarge());
      },
      { deadlineSeconds: 600, brokers },
    ).catch((e) => e);
    expect(calls).toBe(1);
    expect(err.name).toBe('KafkaJSNonRetriableError');
  });
});
