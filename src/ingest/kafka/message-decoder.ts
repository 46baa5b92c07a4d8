/**
 * Decoding of Kafka message values into rows: `jsonl` (one JSON object per message, the
 * JSON-lines shape of src/ingest/jsonl-decoder.ts), `criteo` (one Criteo TSV line),
 * `libsvm` / `libffm` (one sparse line, src/ingest/sparse-decoder.ts), or `arrow` (an Arrow
 * IPC stream of one or more rows, ./arrow-message.ts). A row without event time of its own
 * gets the message timestamp (ms).
 */
import { badReasonOf, type BadReason } from '../bad-reasons.ts';
import { LionctrError } from '../../errors.ts';
import { decodeCriteoLine } from '../criteo-decoder.ts';
import { createJsonlDecoder } from '../jsonl-decoder.ts';
import { createArrowMessageDecoder } from './arrow-message.ts';
import { defaultInputColumns, type InputColumns } from '../input-columns.ts';
import { createSparseDecoder, type SparseDecoderOptions } from '../sparse-decoder.ts';
import type { DecodedRow, SlotSchema } from '../source.ts';

/** Options of createMessageDecoder. */
export interface MessageDecoderOptions {
  /** Hears each unknown slot ignored (schema.unknownSlots=ignore) once, e.g. to log it. */
  onUnknownSlot?: (slot: string, where: string) => void;
  /** libsvm/libffm options (libsvm `source.libsvm.fieldStarts`; default: feature index i is field i). */
  sparse?: SparseDecoderOptions;
  /** schema.time, schema.ignore, schema.weight, schema.unknownSlots as for files; default: the defaults. */
  columns?: InputColumns;
}

/** The message formats (`kafka.format`). */
export const MESSAGE_FORMATS = ['jsonl', 'criteo', 'libsvm', 'libffm', 'arrow'] as const;
/** One of MESSAGE_FORMATS. */
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/**
 * Outcome of decoding one message: its row (and, kafka.format=arrow, its further rows in `rest`),
 * or the reason and message of a bad one.
 */
export type Decoded =
  | { ok: true; row: DecodedRow; rest?: DecodedRow[] }
  | { ok: false; reason: BadReason; error: string };

/**
 * Returns a decoder of message values for `format`.
 * Bad-message reasons: `empty` (null/empty value), `oversized` (value over `maxBytes`),
 * `bad_utf8` (not arrow), `bad_arrow`, and the decoders' own (`bad_json`, `missing_label`, `bad_label`, `bad_number`,
 * `wrong_type`, `wrong_field_count`, `bad_timestamp`, `unknown_slot`, `bad_weight`; sparse:
 * `bad_feature`, `unknown_field`, `duplicate_field`).
 * Never throws for bad input.
 * @param maxBytes largest acceptable value, bytes.
 */
export function createMessageDecoder(
  format: MessageFormat,
  schema: SlotSchema,
  maxBytes: number,
  opts: MessageDecoderOptions = {},
): (value: Buffer | null, timestampMs: number, where: string) => Decoded {
  const cols = opts.columns ?? defaultInputColumns();
  const line =
    format === 'jsonl'
      ? createJsonlDecoder(schema, {
          onUnknownSlot: opts.onUnknownSlot,
          time: cols.time,
          unknownSlots: cols.unknownSlots,
          ignore: cols.ignore,
          weight: cols.weight,
        })
      : format === 'libsvm' || format === 'libffm'
        ? createSparseDecoder(format, schema, opts.sparse)
        : decodeCriteoLine;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const arrow = format === 'arrow' ? createArrowMessageDecoder(schema, cols.weight) : null;
  return (value, timestampMs, where) => {
    if (!value || value.length === 0) return { ok: false, reason: 'empty', error: `empty message (at ${where})` };
    if (value.length > maxBytes)
      return {
        ok: false,
        reason: 'oversized',
        error: `message of ${value.length} bytes is over kafka.maxMessageBytes=${maxBytes} (at ${where})`,
      };
    if (arrow) return decodeRows(() => arrow(value, where), timestampMs);
    let text: string;
    try {
      text = utf8.decode(value);
    } catch {
      return { ok: false, reason: 'bad_utf8', error: `message is not valid UTF-8 (at ${where})` };
    }
    return decodeRows(() => [line(text, where)], timestampMs);
  };
}

/** The rows `decode` gives (the message timestamp where a row has no time), or the bad message it throws. */
function decodeRows(decode: () => DecodedRow[], timestampMs: number): Decoded {
  try {
    const rows = decode();
    if (Number.isFinite(timestampMs))
      for (const row of rows) if (row.eventTimeMs === null) row.eventTimeMs = timestampMs;
    return rows.length > 1 ? { ok: true, row: rows[0], rest: rows.slice(1) } : { ok: true, row: rows[0] };
  } catch (e) {
    if (e instanceof LionctrError && e.code === 'LIONCTR_BAD_INPUT')
      return { ok: false, reason: badReasonOf(e), error: e.message };
    throw e;
  }
}
