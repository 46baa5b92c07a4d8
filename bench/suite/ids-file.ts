/**
 * The suite's pre-made batches of integer ids, written once per (batch, table rows) and read by
 * both lionctr's worker and the PyTorch peer (bench/peers/torch_ctr.py `load_ids`), so that the
 * "ids" mode trains both on the same ids. Layout (little-endian): int32 header [n, B, S, N],
 * then per batch int32 ids [B, S] (slot-local row numbers in [0, per), per = floor(rows / S)),
 * float32 numerics [B, N] (ln(1 + count), as numericDense), float32 labels [B] (25% ones).
 * Ids are uniform over each slot's rows; the PRNG is murmur3's fmix32 of a counter.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fmix32 } from '../../src/features/mix32.ts';

/** Pre-made batches of one (batch, rows) setting. */
export interface IdBatches {
  n: number;
  batch: number;
  slots: number;
  numeric: number;
  /** Per batch: ids [B, S], numerics [B, N], labels [B]. */
  batches: { ids: Int32Array; dense: Float32Array; labels: Float32Array }[];
}

/** Makes `n` batches of `batch` examples with ids uniform in [0, floor(rows / slots)) per slot. */
export function makeIdBatches(n: number, batch: number, rows: number, slots = 39, numeric = 13, seed = 1): IdBatches {
  const per = Math.floor(rows / slots);
  let c = Math.imul(seed, 0x9e3779b9);
  const u = () => {
    c = (c + 0x6d2b79f5) | 0;
    return fmix32(c) / 4294967296;
  };
  const batches = Array.from({ length: n }, () => {
    const ids = new Int32Array(batch * slots).map(() => Math.floor(u() * per));
    const dense = new Float32Array(batch * numeric).map(() => Math.log1p(Math.floor(u() * u() * 1000)));
    const labels = new Float32Array(batch).map(() => (u() < 0.25 ? 1 : 0));
    return { ids, dense, labels };
  });
  return { n, batch, slots, numeric, batches };
}

/** Writes batches in the layout above. */
export function writeIdBatches(path: string, b: IdBatches): void {
  const parts: Uint8Array[] = [new Uint8Array(new Int32Array([b.n, b.batch, b.slots, b.numeric]).buffer)];
  for (const x of b.batches)
    parts.push(new Uint8Array(x.ids.buffer), new Uint8Array(x.dense.buffer), new Uint8Array(x.labels.buffer));
  writeFileSync(path, Buffer.concat(parts));
}

/** Reads a file written by writeIdBatches. */
export function readIdBatches(path: string): IdBatches {
  const buf = readFileSync(path);
  const f = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice(); // aligned copy
  const [n, batch, slots, numeric] = new Int32Array(f.buffer, 0, 4);
  let o = 16;
  const take = <T>(make: (b: ArrayBuffer, o: number, len: number) => T, len: number): T => {
    const out = make(f.buffer, o, len);
    o += len * 4;
    return out;
  };
  const batches = Array.from({ length: n }, () => ({
    ids: take((b, at, len) => new Int32Array(b, at, len), batch * slots),
    dense: take((b, at, len) => new Float32Array(b, at, len), batch * numeric),
    labels: take((b, at, len) => new Float32Array(b, at, len), batch),
  }));
  return { n, batch, slots, numeric, batches };
}

/** The 64-bit lionctr feature id (hi, lo) of slot-local row `k` of slot `f`: distinct per slot, well mixed. */
export function idOf(f: number, k: number): { hi: number; lo: number } {
  const lo = fmix32((k + Math.imul(f, 0x01000193)) | 0);
  return { hi: fmix32(lo ^ 0x5bd1e995 ^ f), lo };
}
