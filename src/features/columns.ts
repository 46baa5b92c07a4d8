/**
 * The column names of the click-event record batches, owned here: ingest (src/ingest)
 * writes batches with these columns and the Featurizer reads them. They live in
 * src/features, not src/ingest, because ingest already imports src/features (the synthetic
 * model buckets numeric values with numeric.ts) while features imports nothing of ingest:
 * one owner, one direction (ingest -> features).
 * The column order and types: src/ingest/arrow/record-batch-builder.ts.
 */

/** Label column (Int8, 0|1); also the label field of CSV headers and JSON lines. */
export const LABEL_COLUMN = 'label';
/** Event time column, ms since the epoch (Float64, null = unknown). */
export const EVENT_TIME_COLUMN = 'event_time_ms';
/** Source partition of a row (Int32; 0 for files and synthetic). */
export const PARTITION_COLUMN = 'source_partition';
/** Source offset of a row (Float64: file line, Kafka offset, synthetic index). */
export const OFFSET_COLUMN = 'source_offset';
/** Sample weight (Float64, >= 0; schema.weight), only in batches of a source with a weight column: absent = 1. */
export const WEIGHT_COLUMN = 'sample_weight';
/** True click probability (Float64), synthetic source only. */
export const BAYES_P_COLUMN = 'bayes_p';
/** Schema metadata key holding the source name (e.g. `kafka:<topic>`, `file:<path>`). */
export const SOURCE_METADATA_KEY = 'lionctr.source';
/** The event-time field of input records (CSV header column, JSON-lines key), ms since the epoch. */
export const TS_INPUT_FIELD = 'ts';

/** Names a slot may not take: the fixed columns and input fields above. */
export const RESERVED_SLOT_NAMES: readonly string[] = [
  LABEL_COLUMN,
  TS_INPUT_FIELD,
  EVENT_TIME_COLUMN,
  PARTITION_COLUMN,
  OFFSET_COLUMN,
  BAYES_P_COLUMN,
  WEIGHT_COLUMN,
];
