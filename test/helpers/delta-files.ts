/**
 * Writes delta exports by hand, exactly as the contract of src/model/delta-format.ts says
 * (delta-<n>/manifest.json, dense/, embeddings/<slot>.arrow, tombstones/<slot>.arrow; into
 * .tmp-delta-<n>, renamed), without the trainer's delta writer: for the serving side's tests
 * and bench/delta-freshness.ts. Also the diff of two models (rows changed or added, rows
 * removed), what a writer puts in a delta.
 */
import * as arrow from 'apache-arrow';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CtrModel } from '../../src/model/ctr-model.ts';
import type { EmbeddingTable } from '../../src/model/embedding-table.ts';
import {
  DELTA_FORMAT,
  type DeltaManifest,
  deltaDirName,
  deltaRowsPath,
  deltaTmpName,
  deltaTombstonesPath,
  tombstonesToArrow,
} from '../../src/model/delta-format.ts';
import { embeddingsToArrow, sha256 } from '../../src/model/export-format.ts';

/** Rows of one slot: ids [n] as (hi, lo), values [n, W]. */
export interface SlotRows {
  hi: Uint32Array;
  lo: Uint32Array;
  values: Float32Array;
  n: number;
}

/** What a delta holds. */
export interface DeltaContent {
  rows: Record<string, SlotRows>;
  tombstones: Record<string, { hi: Uint32Array; lo: Uint32Array; n: number }>;
  /** The tower's variables in order. */
  dense: Float32Array[];
}

/** The manifest.json bytes a delta-<seq> chains on (the base's for seq 1). */
export function prevManifestPath(root: string, base: string, seq: number): string {
  return seq === 1 ? join(root, base, 'manifest.json') : join(root, base, deltaDirName(seq - 1), 'manifest.json');
}

/**
 * Writes `<root>/<base>/delta-<seq>` holding `c` (dense/model.json copied from the base),
 * chained on the previous manifest on disk. `over` replaces manifest fields (to break the chain).
 * @returns the delta's dir, version and manifest.
 */
export async function writeDeltaFiles(
  root: string,
  base: string,
  seq: number,
  c: DeltaContent,
  over: Partial<DeltaManifest> = {},
): Promise<{ dir: string; version: string; manifest: DeltaManifest }> {
  const prevBytes = await readFile(prevManifestPath(root, base, seq));
  let prevVersion = '0'; // a broken previous manifest (a test of refusals) chains on nothing
  try {
    prevVersion = (JSON.parse(prevBytes.toString('utf8')) as { version: string }).version;
  } catch {}
  const version = String(Math.max(Date.now(), Number(prevVersion) + 1));
  const tmp = join(root, base, deltaTmpName(seq));
  await rm(tmp, { recursive: true, force: true });
  const files: Record<string, string> = {};
  const put = async (rel: string, data: Uint8Array | string) => {
    await mkdir(dirname(join(tmp, rel)), { recursive: true });
    await writeFile(join(tmp, rel), data);
    files[rel] = sha256(data);
  };
  await put('dense/model.json', await readFile(join(root, base, 'dense', 'model.json')));
  const all = new Float32Array(c.dense.reduce((a, d) => a + d.length, 0));
  let o = 0;
  for (const d of c.dense) {
    all.set(d, o);
    o += d.length;
  }
  await put('dense/weights.bin', new Uint8Array(all.buffer));
  const rows: Record<string, number> = {},
    tombstones: Record<string, number> = {};
  for (const [slot, r] of Object.entries(c.rows)) {
    if (r.n === 0) continue;
    const width = r.values.length / r.n;
    await put(deltaRowsPath(slot), arrow.tableToIPC(embeddingsToArrow(r.hi, r.lo, r.values, r.n, width), 'file'));
    rows[slot] = r.n;
  }
  for (const [slot, t] of Object.entries(c.tombstones)) {
    if (t.n === 0) continue;
    await put(deltaTombstonesPath(slot), arrow.tableToIPC(tombstonesToArrow(t.hi, t.lo, t.n), 'file'));
    tombstones[slot] = t.n;
  }
  const manifest: DeltaManifest = {
    format: DELTA_FORMAT,
    base_version: base,
    seq,
    version,
    prev_sha256: sha256(prevBytes),
    step: seq,
    examples: seq,
    created_at: new Date().toISOString(),
    source_offsets: {},
    event_time_watermark_ms: null,
    metrics: {},
    rows,
    tombstones,
    files,
    ...over,
  };
  await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  const dir = join(root, base, deltaDirName(seq));
  await rename(tmp, dir);
  return { dir, version: manifest.version, manifest };
}

/** The tower's variables of a model, in order. */
export const denseOf = (m: CtrModel): Float32Array[] => m.tower.vars.map((v) => v.dataSync() as Float32Array);

/**
 * What a delta from `before` to `after` holds: per slot the rows of `after` that `before` lacks
 * or holds with other values, the ids of `before` that `after` lacks, and `after`'s tower.
 * `before` may be a model or the tables of one as they were (EmbeddingTable.clone).
 */
export function diffModels(before: { tables: EmbeddingTable[] }, after: CtrModel): DeltaContent {
  const c: DeltaContent = { rows: {}, tombstones: {}, dense: denseOf(after) };
  after.tables.forEach((t, f) => {
    const b = before.tables[f];
    const hi: number[] = [],
      lo: number[] = [],
      values: number[] = [];
    for (let r = 0; r < t.size; r++) {
      const v = t.rows.getWeights(r);
      const br = b.find(t.idHi(r), t.idLo(r));
      if (br >= 0 && b.rows.getWeights(br).every((x, j) => x === v[j])) continue;
      hi.push(t.idHi(r));
      lo.push(t.idLo(r));
      values.push(...v);
    }
    c.rows[t.slot] = {
      hi: Uint32Array.from(hi),
      lo: Uint32Array.from(lo),
      values: Float32Array.from(values),
      n: hi.length,
    };
    const gone = { hi: [] as number[], lo: [] as number[] };
    for (let r = 0; r < b.size; r++)
      if (t.find(b.idHi(r), b.idLo(r)) < 0) {
        gone.hi.push(b.idHi(r));
        gone.lo.push(b.idLo(r));
      }
    c.tombstones[t.slot] = { hi: Uint32Array.from(gone.hi), lo: Uint32Array.from(gone.lo), n: gone.hi.length };
  });
  return c;
}
