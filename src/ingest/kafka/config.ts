/**
 * Config section `kafka`: brokers, security (TLS, SASL; the password from its env var), the
 * topic and group the trainers consume, the message decoder, dead-letter topic, and the
 * consumer's timing and backpressure settings.
 */
import { oneOf, type ConfigValues } from '../../config/formats.ts';
import { MESSAGE_FORMATS } from './message-decoder.ts';
import { OFFSET_RESET_POLICIES } from './offset-reset.ts';

/** Convict schema of `kafka.*`. */
export const kafkaConfig = {
  brokers: {
    doc: 'Bootstrap brokers host:port',
    format: 'string-list',
    default: ['127.0.0.1:19092'],
    env: 'LIONCTR_KAFKA_BROKERS',
  },
  clientId: { doc: 'Kafka client id', format: String, default: 'lionctr', env: 'LIONCTR_KAFKA_CLIENT_ID' },
  topic: { doc: 'Topic the kafka source trains from', format: String, default: 'clicks', env: 'LIONCTR_KAFKA_TOPIC' },
  groupId: {
    doc: 'Consumer group of the trainers',
    format: String,
    default: 'lionctr-trainer',
    env: 'LIONCTR_KAFKA_GROUP_ID',
  },
  format: {
    doc:
      'Message decoder: jsonl (one JSON object per message, the JSON-lines shape), criteo (one TSV line), ' +
      'libsvm or libffm (one sparse line; libsvm fields as source.libsvm.fieldStarts), arrow (an Arrow IPC ' +
      'stream of one or more rows, columns as an Arrow input file)',
    ...oneOf(MESSAGE_FORMATS, 'jsonl'),
    env: 'LIONCTR_KAFKA_FORMAT',
  },
  deadLetterTopic: {
    doc:
      'Topic that receives bad messages (original bytes; reason and position in headers); ' +
      'empty = count and skip only',
    format: String,
    default: 'clicks.dlq',
    env: 'LIONCTR_KAFKA_DLQ_TOPIC',
  },
  maxMessageBytes: {
    doc: 'Messages larger than this are bad (reason oversized), bytes',
    format: 'positive-int',
    default: 65536,
  },
  fromBeginning: {
    doc:
      'Start at the earliest offset when neither a checkpoint nor the group has one (else the latest); ' +
      'an out-of-range position follows kafka.offsetReset',
    format: Boolean,
    default: true,
  },
  offsetReset: {
    doc:
      "Where a position outside its partition's offsets (records expired or deleted, topic recreated or " +
      "truncated) continues, as Kafka's auto.offset.reset: earliest (the log start), latest (the log end) or " +
      'fail (stop with an error); each reset and the messages it skips are counted and logged',
    ...oneOf(OFFSET_RESET_POLICIES, 'earliest'),
  },
  queueMaxRows: {
    doc: 'Decoded rows buffered ahead of training; above this the consumer pauses fetching (backpressure)',
    format: 'positive-int',
    default: 65536,
  },
  lingerMs: {
    doc: 'How long a partial batch waits for more rows before it is trained anyway, ms',
    format: 'nat',
    default: 200,
  },
  sessionTimeoutMs: {
    doc: "Consumer group session timeout, ms (a crashed trainer's partitions move after this)",
    format: 'positive-int',
    default: 10000,
  },
  heartbeatIntervalMs: { doc: 'Consumer heartbeat interval, ms', format: 'positive-int', default: 1000 },
  releaseWaitMs: {
    doc: 'How long a trainer that gets a partition waits for its live previous owner to checkpoint and release it, ms',
    format: 'positive-int',
    default: 30000,
  },
  ssl: { doc: 'Use TLS to the brokers', format: Boolean, default: false, env: 'LIONCTR_KAFKA_SSL' },
  sasl: {
    mechanism: {
      doc: 'SASL mechanism (empty = no SASL)',
      ...oneOf(['', 'plain', 'scram-sha-256', 'scram-sha-512'], ''),
      env: 'LIONCTR_KAFKA_SASL_MECHANISM',
    },
    username: { doc: 'SASL user name', format: String, default: '', env: 'LIONCTR_KAFKA_SASL_USERNAME' },
    password: {
      doc: 'SASL password (set it through the env var, not a file)',
      format: String,
      default: '',
      sensitive: true,
      env: 'LIONCTR_KAFKA_SASL_PASSWORD',
    },
  },
};

/** The resolved `kafka` section (brokers, client id, TLS, SASL, topics, consumer settings). */
export type KafkaSection = ConfigValues<typeof kafkaConfig>;
