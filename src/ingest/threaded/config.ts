/**
 * Config section `source.thread`: whether the source (Kafka consumer, file reader, synthetic
 * generator) and featurizing run on an ingest thread of their own (./threaded-source.ts), and
 * how many batches may wait for training between the two threads.
 * @module
 */
import type { ConfigValues } from '../../config/formats.ts';

/** Convict schema of `source.thread.*`. */
export const threadConfig = {
  enabled: {
    doc:
      'Read, decode and featurize on an ingest thread of its own, so that the training step has its thread to ' +
      'itself (the Kafka consumer then heartbeats its group during long steps); false: all on the training thread',
    format: Boolean,
    default: true,
  },
  queueBatches: {
    doc:
      'Featurized batches the ingest thread may hold ready ahead of training (the bounded queue between the ' +
      'threads; the ingest thread waits when it is full). Kafka sources read one batch at a time (see README)',
    format: 'positive-int',
    default: 2,
  },
};

/** The resolved `source.thread` section. */
export type ThreadSection = ConfigValues<typeof threadConfig>;
