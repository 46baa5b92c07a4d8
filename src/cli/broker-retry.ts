/**
 * `lionctr produce` through a broker outage (issue 17): tells an unreachable broker (connection
 * refused or closed, request timeouts, no broker available, a retriable error kafkajs gave up
 * on) from bad input (a message too large, an unknown topic), and retries an operation on the
 * former with backoff (0.5 s doubling up to 5 s) until a deadline; then fails with
 * LIONCTR_BROKER_UNAVAILABLE (exit status 3), not LIONCTR_BAD_INPUT.
 */
import type { Logger } from 'pino';
import { LionctrError } from '../errors.ts';

/** kafkajs error names that mean the broker is out of reach, whatever the request. */
const OUTAGE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
]);
/** System codes of a broker out of reach. */
const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/**
 * True when `e` (or an error it wraps: kafkajs' `originalError`, `cause`) says the broker cannot be
 * reached or kafkajs gave up retrying a retriable error; false for anything else (a message too
 * large, an unknown topic, a bad config).
 */
export function isBrokerOutage(e: unknown, depth = 0): boolean {
  const err = e as { name?: string; code?: string; retriable?: boolean; originalError?: unknown; cause?: unknown };
  if (!err || typeof err !== 'object' || depth > 5) return false;
  if (OUTAGE_NAMES.has(err.name ?? '') || OUTAGE_CODES.has(err.code ?? '')) return true;
  if (err.name === 'KafkaJSNumberOfRetriesExceeded') return true; // retriable errors until kafkajs gave up
  if (err.retriable === true && err.name !== 'KafkaJSProtocolError') return true;
  return isBrokerOutage(err.originalError, depth + 1) || isBrokerOutage(err.cause, depth + 1);
}

/** Settings of untilBrokerBack. */
export interface BrokerWait {
  /** Seconds to keep retrying from the first failure of an outage. */
  deadlineSeconds: number;
  /** The bootstrap brokers, for the message. */
  brokers: string[];
  logger?: Logger;
  /** Aborting stops the retries (the last error is thrown as LIONCTR_BROKER_UNAVAILABLE). */
  signal?: AbortSignal;
  /** Waits `ms` (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `fn` until it succeeds; while it fails because the broker is out of reach (isBrokerOutage),
 * tries again after 0.5 s, 1 s, 2 s, 4 s, 5 s, 5 s ... until `deadlineSeconds` have passed since
 * the first failure. @param what what `fn` does, for messages (`sending lines 1-500`).
 * @throws LionctrError LIONCTR_BROKER_UNAVAILABLE `<what>: no Kafka broker reachable at <brokers>
 *   for N s (K tries): <last error>`; any other error of `fn` at once, as it is.
 */
export async function untilBrokerBack<T>(what: string, fn: () => Promise<T>, w: BrokerWait): Promise<T> {
  const sleep = w.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let first = 0;
  for (let tries = 1; ; tries++) {
    try {
      const r = await fn();
      if (tries > 1) w.logger?.info(`${what}: the broker is back after ${tries - 1} failed tries`);
      return r;
    } catch (e) {
      if (!isBrokerOutage(e)) throw e;
      first ||= Date.now();
      const waited = (Date.now() - first) / 1000;
      const msg = (e as Error).message;
      if (waited >= w.deadlineSeconds || w.signal?.aborted) {
        const at = w.brokers.join(',');
        throw new LionctrError(
          'LIONCTR_BROKER_UNAVAILABLE',
          `${what}: no Kafka broker reachable at ${at} for ${waited.toFixed(1)} s (${tries} tries): ${msg}`,
          { cause: e, where: 'kafka.brokers' },
        );
      }
      const delay = Math.min(5000, 500 * 2 ** Math.min(tries - 1, 10), (w.deadlineSeconds - waited) * 1000);
      w.logger?.warn(`${what}: Kafka unreachable (${msg}); try ${tries + 1} in ${(delay / 1000).toFixed(1)} s`);
      await sleep(Math.max(0, delay));
    }
  }
}
