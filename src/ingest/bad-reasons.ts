/**
 * The bad-message reasons, owned here: the `reason` of a LIONCTR_BAD_INPUT raised for one
 * record (a line, CSV record or Kafka message), the key of `Source.stats().bad`, the
 * `lionctr-reason` dead-letter header and the `reason` label of
 * `lionctr_ingest_bad_messages_total` (src/metrics/catalogue.ts starts each at 0).
 */

/**
 * Every reason a decoder or source can give, by origin:
 *   Kafka message (kafka/message-decoder.ts): `empty` (null/empty value, or an Arrow message of
 *     no rows), `oversized` (over kafka.maxMessageBytes), `bad_utf8`, `bad_arrow` (kafka.format=arrow:
 *     not Arrow IPC; kafka/arrow-message.ts);
 *   line/record decoders (criteo, csv, jsonl, decode-util): `bad_json`, `missing_label`,
 *     `bad_label`, `bad_number`, `wrong_type`, `wrong_field_count`, `bad_timestamp`;
 *     `unknown_slot` (jsonl: a features key that is no slot, under schema.unknownSlots=reject);
 *     `bad_weight` (csv, jsonl, arrow: a schema.weight value that is negative, non-finite or no number);
 *   sparse text (sparse-decoder: libsvm, libffm): `bad_feature` (not idx:val / field:idx:val),
 *     `unknown_field` (a field beyond the schema's slots), `duplicate_field` (two features of one slot);
 *   Arrow IPC files (arrow-records): `bad_label`, `missing_label`, `bad_number`, `bad_timestamp` per row;
 *   CSV files: `bad_csv` (a record csv-parse cannot parse), `bad_header` (duplicate column);
 *   file sources: `missing_file` (no such file / not a regular file);
 *   `bad_input`: a LIONCTR_BAD_INPUT that carries no catalogued reason.
 */
export const BAD_REASONS = [
  'empty',
  'oversized',
  'bad_utf8',
  'bad_arrow',
  'bad_json',
  'missing_label',
  'bad_label',
  'bad_number',
  'wrong_type',
  'wrong_field_count',
  'bad_timestamp',
  'unknown_slot',
  'bad_weight',
  'bad_feature',
  'unknown_field',
  'duplicate_field',
  'bad_csv',
  'bad_header',
  'missing_file',
  'bad_input',
] as const;

/** One bad-message reason (see BAD_REASONS). */
export type BadReason = (typeof BAD_REASONS)[number];

const known: ReadonlySet<string> = new Set(BAD_REASONS);

/** True when `s` is one of BAD_REASONS (e.g. the `reason` of a caught LionctrError). */
export function isBadReason(s: string | undefined): s is BadReason {
  return s !== undefined && known.has(s);
}

/** The reason to count a caught LIONCTR_BAD_INPUT under: its own when catalogued, else `bad_input`. */
export function badReasonOf(err: { reason?: string }): BadReason {
  return isBadReason(err.reason) ? err.reason : 'bad_input';
}
