/**
 * The rows `lionctr tune` trains and scores on: read once from the configured file into
 * memory (Arrow RecordBatches of CHUNK rows), split in file order (a click log is written in
 * time order) into rolling-origin folds (Tashman 2000, "Out-of-sample tests of forecasting
 * accuracy", sec. 3): with holdout H = round(rows x holdoutFraction) and K folds, fold k
 * (0-based) trains on the rows before rows - (K - k) H and scores the H rows after them, so
 * the last fold scores the last H rows; replayed as Sources in any batch size without reading
 * the file again.
 */
import type { RecordBatch } from 'apache-arrow';
import type { LionctrConfig } from '../../config/schema.ts';
import { LionctrError } from '../../errors.ts';
import type { FeatureSchema } from '../../features/schema.ts';
import type { Source } from '../../ingest/source.ts';
import { openConfiguredSource } from '../common.ts';

/**
 * Rows per cached RecordBatch. A batch size that divides it (every one of the search space)
 * replays in exactly the batches a file source of that batch size yields; another one gets a
 * short batch every CHUNK rows.
 */
export const CHUNK = 8192;

/** One rolling-origin fold of the rows. */
export interface Fold {
  trainRows: number;
  end: number;
}

/** The rows of a tuning run, held in memory. */
export interface TuneRows {
  /** The cached batches, CHUNK rows each but the last, in file order. */
  chunks: RecordBatch[];
  /** Rows in all (good rows; bad ones are counted in `bad` and left out). */
  rows: number;
  /** The folds, in time order: train on rows [0, trainRows), score rows [trainRows, end). */
  folds: Fold[];
  /** Bad rows skipped while reading, by reason. */
  bad: Record<string, number>;
  /** Source name of the file (`file:<path>`), kept in the replays' positions. */
  name: string;
}

/**
 * Reads the configured file source (source.path, format, skip, limit) into memory and splits
 * it into `folds` rolling-origin folds of round(rows * holdoutFraction) scored rows each.
 * @throws LionctrError LIONCTR_BAD_INPUT when fewer than 20 rows are usable or a fold would
 *   train or score no row; LIONCTR_BAD_CONFIG when folds x holdoutFraction is not in (0, 1).
 */
export async function readTuneRows(
  cfg: LionctrConfig,
  schema: FeatureSchema,
  holdoutFraction: number,
  folds = 1,
): Promise<TuneRows> {
  if (!(holdoutFraction > 0 && folds >= 1 && folds * holdoutFraction < 1))
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `--holdout-fraction x --folds must be in (0, 1), got ${holdoutFraction} x ${folds}`,
    );
  const src = openConfiguredSource(cfg, schema);
  const chunks: RecordBatch[] = [];
  let rows = 0;
  for await (const rb of src.batches({ batchSize: CHUNK })) {
    chunks.push(rb);
    rows += rb.numRows;
  }
  const bad = src.stats().bad;
  const held = Math.round(rows * holdoutFraction);
  if (rows < 20 || held < 1 || rows - folds * held < 1) {
    const why = `${rows} usable rows (bad rows: ${JSON.stringify(bad)}): too few to split into training and holdout`;
    throw new LionctrError('LIONCTR_BAD_INPUT', why, { where: cfg.source.path });
  }
  const fs = Array.from({ length: folds }, (_, k) => ({
    trainRows: rows - (folds - k) * held,
    end: rows - (folds - k - 1) * held,
  }));
  return { chunks, rows, folds: fs, bad, name: src.name };
}

/** The rows [from, to) of the cached chunks, as RecordBatch slices in order. */
function* rowRange(chunks: readonly RecordBatch[], from: number, to: number): Generator<RecordBatch> {
  let at = 0;
  for (const c of chunks) {
    const a = Math.max(from, at),
      b = Math.min(to, at + c.numRows);
    if (a < b) yield a === at && b === at + c.numRows ? c : c.slice(a - at, b - at);
    at += c.numRows;
  }
}

/**
 * A Source replaying rows [from, to) of `r` in batches of at most batchSize rows (never
 * across two cached chunks). Its stats count the rows yielded; it has no bad rows (the read
 * counted them).
 */
export function replaySource(r: TuneRows, from: number, to: number): Source {
  let rows = 0;
  return {
    name: r.name,
    stats: () => ({ rows, bad: {} }),
    async *batches({ batchSize, signal }) {
      for (const part of rowRange(r.chunks, from, to)) {
        for (let i = 0; i < part.numRows; i += batchSize) {
          if (signal?.aborted) return;
          const b = part.slice(i, Math.min(part.numRows, i + batchSize));
          rows += b.numRows;
          yield b;
        }
      }
    },
  };
}
