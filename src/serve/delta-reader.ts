/**
 * Finds, reads and verifies the next delta export of the full export being served
 * (src/model/delta-format.ts; DESIGN.md "Exports and serving"), entirely before anything is
 * applied: the chain (base_version, seq, version, prev_sha256), every file's sha256, the
 * tables' widths and the tower's shapes against the served model, and finiteness. What comes
 * out (ParsedDelta) can be applied in one synchronous call that cannot fail halfway
 * (delta-applier.ts). A refused delta throws a LionctrError whose `reason` is one of
 * DELTA_FAILURE_REASONS (src/events/serve-events.ts); a delta whose base was pruned while it was
 * read (a newer full export superseded it) throws one whose reason is `superseded` (isSuperseded):
 * not a fault of the delta.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { DELTA_FAILURE_REASONS, type DeltaFailureReason } from '../events/serve-events.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import {
  checkDeltaChain,
  deltaDirName,
  deltaRowsPath,
  deltaTombstonesPath,
  listDeltaDirs,
  parseDeltaManifest,
  tombstonesFromArrow,
  type DeltaManifest,
  type DeltaPredecessor,
} from '../model/delta-format.ts';
import { embeddingsFromArrow, sha256, type DenseModelJson } from '../model/export-format.ts';
import { checkFileEntries, confinedFile, insideChecker } from '../model/export-paths.ts';

/** Changed rows of table `table` (index in model.tables): ids [n] as (hi, lo), values [n, W]. */
export interface DeltaRows {
  table: number;
  hi: Uint32Array;
  lo: Uint32Array;
  values: Float32Array;
  n: number;
}

/** Removed ids of table `table`: [n] as (hi, lo). */
export interface DeltaIds {
  table: number;
  hi: Uint32Array;
  lo: Uint32Array;
  n: number;
}

/** A delta read and verified against the chain and the served model, ready to apply. */
export interface ParsedDelta {
  manifest: DeltaManifest;
  /** manifest.json's bytes (the next delta's prev_sha256 is their sha256). */
  manifestBytes: Buffer;
  dir: string;
  rows: DeltaRows[];
  tombstones: DeltaIds[];
  /** The tower's variables in order, shapes as model.tower.shapes. */
  dense: Float32Array[];
}

/** A refused delta: LIONCTR_BAD_EXPORT with `reason`, naming the file. */
function refuse(reason: DeltaFailureReason, message: string, where: string, cause?: unknown): never {
  throw new LionctrError('LIONCTR_BAD_EXPORT', message, { where, reason, cause });
}

/**
 * Whether `err` says the chain's base was pruned while a delta of it was read (DeltaChain.next):
 * the chain ends there, the next full export starts a new one.
 */
export function isSuperseded(err: unknown): boolean {
  return err instanceof LionctrError && err.reason === 'superseded';
}

/** The reason of a refused delta's error (bad_delta for anything unexpected). */
export function deltaFailureReason(err: unknown): DeltaFailureReason {
  const r = (err as LionctrError)?.reason;
  return (DELTA_FAILURE_REASONS as readonly string[]).includes(r as string) ? (r as DeltaFailureReason) : 'bad_delta';
}

/**
 * The deltas of one full export, in order: where the next one must chain on, and whether the
 * chain was broken (then no later delta of this base is read).
 */
export class DeltaChain {
  /** n of the next delta to apply. */
  nextSeq = 1;
  /** The version this chain serves now: the base's, then each applied delta's. */
  version: string;
  /** Set once a delta was refused: the chain stops until the next full export. */
  failed = false;
  private prevBytes: Buffer | undefined;

  /** @param baseDir `<root>/<base>`. */
  constructor(
    readonly base: string,
    readonly baseDir: string,
  ) {
    this.version = base;
  }

  /**
   * The next delta (delta-<nextSeq>), read and verified for `model`; null when it is not there
   * yet.
   * @throws LionctrError LIONCTR_BAD_EXPORT with reason `gap` when it is absent but a later one
   *   exists, or any reason of readDelta; with reason `superseded` (isSuperseded) instead when
   *   reading failed and the base's manifest.json is gone: the writer pruned the base (renamed
   *   away, then deleted) while its delta was read, so files went missing under the reader.
   */
  async next(model: CtrModel): Promise<ParsedDelta | null> {
    try {
      return await this.read(model);
    } catch (err) {
      const gone = await stat(join(this.baseDir, 'manifest.json')).then(
        () => false,
        (e: NodeJS.ErrnoException) => e.code === 'ENOENT' || e.code === 'ENOTDIR',
      );
      if (!gone) throw err;
      throw new LionctrError(
        'LIONCTR_BAD_EXPORT',
        `export ${this.base} was pruned while its ${deltaDirName(this.nextSeq)} was read (superseded by a newer ` +
          `full export): ${(err as Error).message}`,
        { where: this.baseDir, reason: 'superseded', cause: err },
      );
    }
  }

  private async read(model: CtrModel): Promise<ParsedDelta | null> {
    const dirs = await listDeltaDirs(this.baseDir);
    const mine = dirs.find((d) => d.seq === this.nextSeq);
    if (!mine) {
      const later = dirs.find((d) => d.seq > this.nextSeq);
      if (later) refuse('gap', `${deltaDirName(this.nextSeq)} is missing but ${later.name} exists`, later.dir);
      return null;
    }
    const baseManifest = join(this.baseDir, 'manifest.json');
    this.prevBytes ??= await readFile(baseManifest).catch((e) => refuse('bad_delta', 'cannot read', baseManifest, e));
    const prev: DeltaPredecessor = {
      baseVersion: this.base,
      nextSeq: this.nextSeq,
      version: this.version,
      manifestBytes: this.prevBytes,
    };
    return readDelta(mine.dir, prev, model);
  }

  /** Records `d` as applied: the next delta chains on it. */
  advance(d: ParsedDelta): void {
    this.nextSeq = d.manifest.seq + 1;
    this.version = d.manifest.version;
    this.prevBytes = d.manifestBytes;
  }
}

/**
 * Reads delta directory `dir` and verifies it follows `prev` and fits `model`.
 * @throws LionctrError LIONCTR_BAD_EXPORT naming the file, reason: bad_delta (manifest or table
 *   unreadable, a slot or shape the model does not have, row counts that differ from the
 *   manifest's), broken_chain, checksum (a listed file missing or not matching), nonfinite.
 */
export async function readDelta(dir: string, prev: DeltaPredecessor, model: CtrModel): Promise<ParsedDelta> {
  const where = (rel: string) => join(dir, rel);
  const manifestBytes = await readFile(where('manifest.json')).catch((e) =>
    refuse('bad_delta', 'cannot read the delta manifest', where('manifest.json'), e),
  );
  const manifest = parseDeltaManifest(manifestBytes.toString('utf8'), where('manifest.json'));
  checkDeltaChain(manifest, prev, where('manifest.json'));
  // every entry a relative path inside the delta, and no link out of it, before any file is opened
  const outside = (e: unknown) => refuse('bad_delta', (e as Error).message, where('manifest.json'));
  try {
    checkFileEntries(manifest.files, where('manifest.json'));
  } catch (e) {
    outside(e);
  }
  const inside = await insideChecker(dir).catch((e) => refuse('bad_delta', 'cannot read the delta', dir, e));
  const files = new Map<string, Buffer>();
  for (const [rel, sum] of Object.entries(manifest.files)) {
    await inside(confinedFile(dir, rel)).catch((e) =>
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? refuse('checksum', 'file missing', where(rel), e) : outside(e),
    );
    const buf = await readFile(where(rel)).catch((e) => refuse('checksum', 'file missing', where(rel), e));
    if (sha256(buf) !== sum) refuse('checksum', 'checksum mismatch (corrupt or partial file)', where(rel));
    files.set(rel, buf);
  }
  const file = (rel: string): Buffer =>
    files.get(rel) ?? refuse('bad_delta', 'file not listed in the delta manifest', where(rel));
  const dense = readDense(file, model, where);
  const slots = new Map(model.tables.map((t, i) => [t.slot, i]));
  for (const [kind, counts] of [
    ['rows', manifest.rows],
    ['tombstones', manifest.tombstones],
  ] as const)
    for (const [slot, n] of Object.entries(counts))
      if (n > 0 && !slots.has(slot))
        refuse('bad_delta', `${kind} for slot "${slot}", which the model does not have`, where('manifest.json'));
  const rows: DeltaRows[] = [];
  const tombstones: DeltaIds[] = [];
  const dtype = manifest.weight_dtype ?? 'float32'; // checked by parseDeltaManifest
  for (const [slot, f] of slots) {
    const width = model.tables[f].width;
    const rowsRel = deltaRowsPath(slot);
    if ((manifest.rows[slot] ?? 0) > 0 || files.has(rowsRel)) {
      const r = parseTable(file(rowsRel), where(rowsRel), (t) => embeddingsFromArrow(t, width, dtype));
      expectCount(r.n, manifest.rows[slot] ?? 0, where(rowsRel));
      await nextTurn(); // each table parsed and checked in a turn of its own: requests go on between
      const bad = countNonFinite(r.values.subarray(0, r.n * width));
      if (bad) refuse('nonfinite', `${bad} of ${r.n * width} weights are NaN or infinite`, where(rowsRel));
      rows.push({ table: f, ...r });
    }
    const delRel = deltaTombstonesPath(slot);
    if ((manifest.tombstones[slot] ?? 0) > 0 || files.has(delRel)) {
      await nextTurn();
      const d = parseTable(file(delRel), where(delRel), tombstonesFromArrow);
      expectCount(d.n, manifest.tombstones[slot] ?? 0, where(delRel));
      tombstones.push({ table: f, ...d });
    }
  }
  return { manifest, manifestBytes, dir, rows, tombstones, dense };
}

/** The delta's dense tower, checked against the served one's shapes and for finiteness. */
function readDense(file: (rel: string) => Buffer, model: CtrModel, where: (rel: string) => string): Float32Array[] {
  let json: DenseModelJson;
  try {
    json = JSON.parse(file('dense/model.json').toString('utf8')) as DenseModelJson;
  } catch (e) {
    if (e instanceof LionctrError) throw e;
    return refuse('bad_delta', `not JSON: ${(e as Error).message}`, where('dense/model.json'), e);
  }
  const want = model.tower.shapes;
  const got = json?.weightsManifest?.[0]?.weights?.map((w) => w.shape) ?? [];
  if (JSON.stringify(got) !== JSON.stringify(want))
    refuse(
      'bad_delta',
      `tower shapes ${JSON.stringify(got)} differ from the served ${JSON.stringify(want)}`,
      where('dense/model.json'),
    );
  const wbuf = file('dense/weights.bin');
  const all = new Float32Array(wbuf.buffer.slice(wbuf.byteOffset, wbuf.byteOffset + (wbuf.byteLength & ~3)));
  const total = want.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  if (all.length !== total)
    refuse('bad_delta', `weights.bin holds ${all.length} floats, the tower has ${total}`, where('dense/weights.bin'));
  const bad = countNonFinite(all);
  if (bad) refuse('nonfinite', `${bad} of ${total} weights are NaN or infinite`, where('dense/weights.bin'));
  const out: Float32Array[] = [];
  let o = 0;
  for (const s of want) {
    const n = s.reduce((x, y) => x * y, 1);
    out.push(all.subarray(o, o + n));
    o += n;
  }
  return out;
}

const nextTurn = () => new Promise((res) => setImmediate(res));

/** Parses an Arrow IPC file with `read`; anything unreadable is a bad_delta naming the file. */
function parseTable<T>(bytes: Buffer, where: string, read: (t: arrow.Table) => T): T {
  try {
    return read(arrow.tableFromIPC(bytes));
  } catch (e) {
    return refuse('bad_delta', `not a valid table: ${(e as Error).message}`, where, e);
  }
}

function expectCount(n: number, want: number, where: string): void {
  if (n !== want) refuse('bad_delta', `${n} rows, the manifest says ${want}`, where);
}

/** How many of `v` are NaN or ±Infinity. */
function countNonFinite(v: Float32Array): number {
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) bad++;
  return bad;
}
