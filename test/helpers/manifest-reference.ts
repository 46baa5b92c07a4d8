/**
 * An independent reader of lionctr exports, in plain TypeScript and float64: it scores JSON
 * instances from an export directory using only what the manifest's `featurization` states
 * and the export's files (Arrow tables via apache-arrow, dense/model.json + weights.bin,
 * XXH64 via xxhash-wasm). It imports nothing of src/, so a description that drifts from the
 * code makes its predictions disagree with CtrModel.predict (test/unit/model/featurization-repro.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { expect } from 'vitest';
import xxhash from 'xxhash-wasm';

const hasher = await xxhash();

// biome-ignore lint/suspicious/noExplicitAny: the manifest is read as untyped JSON on purpose
type Json = any;

interface Table {
  rows: Map<bigint, number>;
  vectors: Float32Array;
  width: number;
}

/** A loaded export: the manifest, one table per slot, the tower's layers as float64. */
export interface ReferenceExport {
  manifest: Json;
  tables: Map<string, Table>;
  layers: { w: Float64Array; b: Float64Array; fanIn: number; fanOut: number }[];
}

/** Reads `dir` (a version directory) as the manifest describes it. */
export async function loadReference(dir: string): Promise<ReferenceExport> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const fz = manifest.featurization;
  const tables = new Map<string, Table>();
  for (const slot of fz.slots) {
    const path = fz.tables.path.replace('<slot>', slot.name);
    const t = arrow.tableFromIPC(await readFile(join(dir, path)));
    const width = fz.tables.dims[slot.name] + 1;
    const ids = t.getChild('id')!.toArray() as BigUint64Array;
    const vectors = new Float32Array(t.numRows * width);
    for (let r = 0; r < t.numRows; r++) vectors.set(t.getChild('vector')!.get(r).toArray(), r * width);
    tables.set(slot.name, { rows: new Map(Array.from(ids, (id, r) => [id, r])), vectors, width });
  }
  const dense = JSON.parse(await readFile(join(dir, 'dense/model.json'), 'utf8'));
  const wbuf = await readFile(join(dir, 'dense/weights.bin'));
  const view = new DataView(wbuf.buffer, wbuf.byteOffset, wbuf.byteLength);
  let o = 0;
  const take = (n: number) => Float64Array.from({ length: n }, () => view.getFloat32(o++ * 4, true));
  const specs = dense.weightsManifest[0].weights;
  const layers = [];
  for (let l = 0; l < specs.length; l += 2) {
    const [fanIn, fanOut] = specs[l].shape;
    layers.push({ fanIn, fanOut, w: take(fanIn * fanOut), b: take(fanOut) });
  }
  return { manifest, tables, layers };
}

/** The stated token of one categorical value, or null when it is missing. */
function categoricalToken(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v); // number_to_string
  throw new Error(`bad categorical value ${JSON.stringify(v)}`);
}

/** The stated numeric value x, or null when it is missing. */
function numericValue(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return null;
  const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  throw new Error(`bad numeric value ${JSON.stringify(v)}`);
}

/** Click probability of each instance, float64, from the description alone. */
export function referencePredict(ref: ReferenceExport, instances: Record<string, unknown>[]): number[] {
  const fz = ref.manifest.featurization;
  expect(fz.version).toBe('lionctr-featurization/1');
  const { token: tok, dense } = fz.numeric;
  expect(dense.formula).toMatch(/^ln\(1 \+ max\(x, 0\)\)/);
  return instances.map((inst) => {
    const x = new Float64Array(fz.tower_input.width);
    let wide = 0;
    const emb = new Map<string, Float32Array>();
    const denseIn = new Map<string, number>();
    for (const slot of fz.slots) {
      let token: string | null;
      if (slot.type === 'categorical') token = categoricalToken(inst[slot.name]);
      else {
        const v = numericValue(inst[slot.name]);
        denseIn.set(slot.name, v === null ? dense.missing : Math.fround(Math.log1p(Math.max(v, 0))));
        if (v === null) token = null;
        else if (v > tok.threshold) token = `${tok.log_prefix}${Math.floor(Math.log(v) ** 2)}`;
        else token = `${tok.raw_prefix}${String(v)}`;
      }
      const seed = hasher.h64(slot.name, BigInt(fz.hash.slot_seed_seed));
      expect(seed.toString()).toBe(slot.seed);
      const id = hasher.h64(token ?? fz.hash.missing_token, seed);
      const t = ref.tables.get(slot.name)!;
      const r = t.rows.get(id);
      const row = r === undefined ? new Float32Array(t.width) : t.vectors.subarray(r * t.width, (r + 1) * t.width);
      wide += row[0];
      emb.set(slot.name, row.subarray(1));
    }
    for (const part of fz.tower_input.layout) {
      if (part.source === 'embedding') x.set(emb.get(part.slot)!, part.columns[0]);
      else x[part.column] = denseIn.get(part.slot)!;
    }
    let h = x;
    ref.layers.forEach((L, l) => {
      const out = new Float64Array(L.fanOut);
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.b[j];
        for (let i = 0; i < L.fanIn; i++) s += h[i] * L.w[i * L.fanOut + j];
        out[j] = l + 1 < ref.layers.length ? Math.max(s, 0) : s;
      }
      h = out;
    });
    let logit = wide + h[0];
    if (fz.output.fm) {
      const parts = fz.tower_input.layout.filter((p: Json) => p.source === 'embedding');
      const D = parts[0].columns[1] - parts[0].columns[0];
      for (let d = 0; d < D; d++) {
        let sum = 0,
          sumSq = 0;
        for (const p of parts) {
          sum += x[p.columns[0] + d];
          sumSq += x[p.columns[0] + d] ** 2;
        }
        logit += 0.5 * (sum * sum - sumSq);
      }
    }
    return 1 / (1 + Math.exp(-logit));
  });
}
