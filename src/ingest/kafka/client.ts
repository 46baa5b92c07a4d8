/**
 * The kafkajs client of a config's `kafka.*` keys: brokers, client id, TLS and SASL
 * (secrets come from env vars, see config/schema.ts). kafkajs' own logs go to our pino
 * logger at warn and above.
 */
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSection } from './config.ts';
import { LionctrError } from '../../errors.ts';

const TRANSIENT = new RegExp(
  'coordinator is not available|coordinator is loading|does not host this topic-partition|' +
    'leadership election|not the leader|rebalanc',
  'i',
);

/** Options of createKafka: the `kafka` section of the config (declared in ./config.ts). */

/**
 * Builds a kafkajs client; `retry`: kafkajs' own retries of a request (default 6 from 300 ms,
 * about 20 s against a broker that is down; `produce` retries itself, up to its deadline).
 * @throws LionctrError LIONCTR_BAD_CONFIG when SASL is chosen without a user name or password.
 */
export function createKafka(
  k: KafkaSection,
  logger?: Logger,
  retry: { retries: number; initialRetryTime: number } = { retries: 6, initialRetryTime: 300 },
): Kafka {
  const cfg: KafkaConfig = {
    clientId: k.clientId,
    brokers: k.brokers,
    ssl: k.ssl,
    connectionTimeout: 3000,
    retry,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, log }) => {
        if (!logger) return;
        const { message, ...extra } = log;
        const line = `kafkajs ${namespace}: ${message}`;
        // transients kafkajs retries by itself (a coordinator still loading, a fresh topic) stay at debug
        if (TRANSIENT.test(`${message} ${String((extra as { error?: unknown }).error ?? '')}`))
          logger.debug(extra, line);
        else logger.warn(extra, line);
      },
  };
  if (k.sasl.mechanism) {
    if (!k.sasl.username || !k.sasl.password) {
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        'kafka.sasl.mechanism is set, so kafka.sasl.username and kafka.sasl.password ' +
          '(env LIONCTR_KAFKA_SASL_PASSWORD) are needed',
        { where: k.sasl.username ? 'kafka.sasl.password' : 'kafka.sasl.username' },
      );
    }
    cfg.sasl = { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password } as SASLOptions;
  }
  return new Kafka(cfg);
}
