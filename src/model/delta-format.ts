/**
 * The delta export format (DESIGN.md "Exports and serving"; issue 11 "Delta exports"): the
 * rows changed since the previous export, tombstones for rows removed, and the full dense
 * tower, chained to the full export they build on by version and checksum.
 *
 *   <root>/<base>/delta-<n>/manifest.json          DeltaManifest, n = 1, 2, 3, ... (decimal, no padding)
 *   <root>/<base>/delta-<n>/dense/model.json        the full dense tower, as in a full export
 *   <root>/<base>/delta-<n>/dense/weights.bin
 *   <root>/<base>/delta-<n>/dense/model.onnx
 *   <root>/<base>/delta-<n>/embeddings/<slot>.arrow rows changed since the previous export (full or delta),
 *                                                   same schema as a full export's tables, weights stored
 *                                                   as the delta's weight_dtype; absent when the slot has
 *                                                   no changed rows (then not in `files`)
 *   <root>/<base>/delta-<n>/tombstones/<slot>.arrow ids of rows removed (column id uint64); absent when none
 *
 * A delta is written into `<root>/<base>/.tmp-delta-<n>`, fsynced, renamed to `delta-<n>`,
 * and the base directory fsynced. LATEST is not touched. Serving applies delta-<n> only
 * after delta-<n-1> (or the base for n = 1), when its `prev_sha256` is the sha256 of that
 * one's manifest.json bytes, its `base_version` is the base's and its version is greater.
 * This file holds the type, the names and the pure checks both the writer (src/train) and
 * the reader (src/serve) use.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { idsFromArrow, idsToUint64, sha256 } from './export-format.ts';
import { WEIGHT_DTYPES, type WeightDtype } from './weight-dtype.ts';

/** The `format` of a delta manifest. */
export const DELTA_FORMAT = 'lionctr-delta/1';

/** Prefix of a delta directory: `delta-<n>`. */
export const DELTA_DIR_PREFIX = 'delta-';

/** Prefix of a delta being written: `.tmp-delta-<n>`. */
export const DELTA_TMP_PREFIX = '.tmp-delta-';

/** manifest.json of `<root>/<base>/delta-<n>`. */
export interface DeltaManifest {
  format: typeof DELTA_FORMAT;
  /** Version of the full export this delta builds on (its directory name). */
  base_version: string;
  /** n of `delta-<n>`: 1, 2, 3, ... */
  seq: number;
  /** Decimal ms since epoch, > base_version and > the version of delta-<n-1>. */
  version: string;
  /** sha256 (hex) of the bytes of the previous manifest.json (the base's for seq 1). */
  prev_sha256: string;
  /** Training step at export. */
  step: number;
  /** Examples trained at export. */
  examples: number;
  created_at: string;
  /** Next source offset to read, per "source/partition". */
  source_offsets: Record<string, number>;
  /** Largest event time trained so far, ms since epoch (null when the source has none). */
  event_time_watermark_ms: number | null;
  /** Progressive metrics at export time. */
  metrics: Record<string, number | null>;
  /** Changed rows written, per slot (0 or absent: no embeddings/<slot>.arrow). */
  rows: Record<string, number>;
  /** Removed ids written, per slot (0 or absent: no tombstones/<slot>.arrow). */
  tombstones: Record<string, number>;
  /** Storage of the changed rows' weights (weight-dtype.ts); absent: float32 (older deltas). */
  weight_dtype?: WeightDtype;
  /** sha256 (hex) of every file of the delta, by path relative to the delta dir. */
  files: Record<string, string>;
}

/** `delta-<n>`. */
export const deltaDirName = (n: number): string => `${DELTA_DIR_PREFIX}${n}`;

/** `.tmp-delta-<n>`. */
export const deltaTmpName = (n: number): string => `${DELTA_TMP_PREFIX}${n}`;

/** Relative path of a slot's changed rows inside a delta dir. */
export const deltaRowsPath = (slot: string): string => `embeddings/${slot}.arrow`;

/** Relative path of a slot's tombstones inside a delta dir. */
export const deltaTombstonesPath = (slot: string): string => `tombstones/${slot}.arrow`;

/**
 * n of a directory name `delta-<n>` (decimal, n >= 1, no leading zeros, no padding), or null
 * for any other name (including `.tmp-delta-<n>`).
 */
export function parseDeltaDirName(name: string): number | null {
  const m = /^delta-([1-9]\d{0,8})$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * The delta directories among `names` (a base dir's entries), by n ascending. Gaps are kept
 * as they are: the caller decides (serving stops at the first gap).
 */
export function deltaDirsIn(names: readonly string[]): { seq: number; name: string }[] {
  const out: { seq: number; name: string }[] = [];
  for (const name of names) {
    const seq = parseDeltaDirName(name);
    if (seq !== null) out.push({ seq, name });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * The delta directories of a full export dir `baseDir`, by n ascending (see deltaDirsIn);
 * [] when the dir cannot be read (e.g. pruned meanwhile).
 */
export async function listDeltaDirs(baseDir: string): Promise<{ seq: number; name: string; dir: string }[]> {
  const names = await readdir(baseDir).catch(() => [] as string[]);
  return deltaDirsIn(names).map((d) => ({ ...d, dir: join(baseDir, d.name) }));
}

/** A relative file path confined to its directory: no `..`, no absolute path, no backslash, no empty part. */
export function isConfinedPath(rel: string): boolean {
  if (rel.length === 0 || rel.length > 512 || rel.startsWith('/') || rel.includes('\\') || rel.includes('\0'))
    return false;
  return rel.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

const isHex64 = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
const isVersion = (s: unknown): s is string => typeof s === 'string' && /^\d{1,20}$/.test(s);
const isCounts = (o: unknown): o is Record<string, number> =>
  typeof o === 'object' &&
  o !== null &&
  !Array.isArray(o) &&
  Object.values(o).every((v) => Number.isSafeInteger(v) && (v as number) >= 0);

/**
 * Parses and validates a delta manifest.json.
 * @param text the file's contents (utf8).
 * @param where the file's path, for messages.
 * @throws LionctrError LIONCTR_BAD_EXPORT (where = `where`) when it is not JSON, its format is
 *   not DELTA_FORMAT, or a field is missing or malformed (versions decimal strings, seq an
 *   integer >= 1, prev_sha256 and every checksum 64 hex digits, file paths confined to the
 *   delta dir, rows and tombstones non-negative integer counts, weight_dtype absent or one of
 *   WEIGHT_DTYPES).
 */
export function parseDeltaManifest(text: string, where: string): DeltaManifest {
  const bad = (msg: string): never => {
    throw new LionctrError('LIONCTR_BAD_EXPORT', `bad delta manifest: ${msg}`, { where, reason: 'bad_delta' });
  };
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('not a JSON object');
  if (m.format !== DELTA_FORMAT) bad(`format ${JSON.stringify(m.format)}, expected ${JSON.stringify(DELTA_FORMAT)}`);
  if (!isVersion(m.base_version)) bad('base_version must be a decimal version string');
  if (!Number.isSafeInteger(m.seq) || (m.seq as number) < 1) bad('seq must be an integer >= 1');
  if (!isVersion(m.version)) bad('version must be a decimal version string');
  if (!isHex64(m.prev_sha256)) bad('prev_sha256 must be 64 lowercase hex digits');
  if (!Number.isSafeInteger(m.step) || !Number.isSafeInteger(m.examples)) bad('step and examples must be integers');
  if (typeof m.created_at !== 'string') bad('created_at must be a string');
  if (!isCounts(m.source_offsets)) bad('source_offsets must map partitions to offsets');
  if (m.event_time_watermark_ms !== null && typeof m.event_time_watermark_ms !== 'number')
    bad('event_time_watermark_ms must be a number or null');
  if (typeof m.metrics !== 'object' || m.metrics === null) bad('metrics must be an object');
  if (!isCounts(m.rows)) bad('rows must map slots to counts');
  if (!isCounts(m.tombstones)) bad('tombstones must map slots to counts');
  if (m.weight_dtype !== undefined && !(WEIGHT_DTYPES as readonly unknown[]).includes(m.weight_dtype))
    bad(`weight_dtype must be one of ${WEIGHT_DTYPES.join(', ')}`);
  const files = m.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return bad('files must be an object');
  for (const [rel, sum] of Object.entries(files)) {
    if (!isConfinedPath(rel)) bad(`file path ${JSON.stringify(rel.slice(0, 80))} leaves the delta directory`);
    if (!isHex64(sum)) bad(`checksum of ${rel} must be 64 lowercase hex digits`);
  }
  return m as unknown as DeltaManifest;
}

/** What a delta must chain onto: the base, or the delta before it. */
export interface DeltaPredecessor {
  /** Version of the full export the chain builds on. */
  baseVersion: string;
  /** n the next delta must have (1 after the base, n + 1 after delta-<n>). */
  nextSeq: number;
  /** Version of the predecessor (the base's or delta-<n-1>'s). */
  version: string;
  /** The predecessor's manifest.json bytes, exactly as on disk. */
  manifestBytes: Uint8Array | string;
}

/**
 * Checks that `delta` follows `prev` in the chain: same base_version, seq = prev.nextSeq, version
 * strictly greater (compared as integers), prev_sha256 = sha256(prev.manifestBytes).
 * @throws LionctrError LIONCTR_BAD_EXPORT (where = `where`, reason `broken_chain`) saying which
 *   link does not hold.
 */
export function checkDeltaChain(delta: DeltaManifest, prev: DeltaPredecessor, where: string): void {
  const broken = (msg: string): never => {
    throw new LionctrError('LIONCTR_BAD_EXPORT', `broken delta chain: ${msg}`, { where, reason: 'broken_chain' });
  };
  if (delta.base_version !== prev.baseVersion)
    broken(`base_version ${delta.base_version}, expected ${prev.baseVersion}`);
  if (delta.seq !== prev.nextSeq) broken(`seq ${delta.seq}, expected ${prev.nextSeq}`);
  if (BigInt(delta.version) <= BigInt(prev.version))
    broken(`version ${delta.version} is not greater than the previous ${prev.version}`);
  if (delta.prev_sha256 !== sha256(prev.manifestBytes))
    broken(
      `prev_sha256 does not match the manifest of ${prev.nextSeq === 1 ? 'the base' : `delta-${prev.nextSeq - 1}`}`,
    );
}

/** A tombstone table: one column `id` uint64 from (hi, lo) pairs of [n] each. */
export function tombstonesToArrow(hi: Uint32Array, lo: Uint32Array, n: number): arrow.Table {
  return new arrow.Table({ id: arrow.makeVector(idsToUint64(hi, lo, n)) });
}

/**
 * Reads a tombstone table back into (hi, lo) arrays of [n].
 * @throws LionctrError LIONCTR_BAD_EXPORT when the column `id` is absent or not uint64.
 */
export function tombstonesFromArrow(table: arrow.Table): { hi: Uint32Array; lo: Uint32Array; n: number } {
  const col = table.getChild('id');
  const t = col?.type;
  if (!col || !arrow.DataType.isInt(t) || t.bitWidth !== 64 || t.isSigned)
    throw new LionctrError('LIONCTR_BAD_EXPORT', 'tombstone table needs a column "id" of uint64');
  const n = table.numRows;
  return { ...idsFromArrow(col, n), n };
}
