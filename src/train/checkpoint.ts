/**
 * Checkpoints (DESIGN.md "Ids, offsets and exactly-once"): everything needed to resume
 * training exactly — the TrainState of src/train/train-state.ts plus the source positions
 * (per partition, the next offset to read) — written atomically and durably:
 *
 *     <root>/<step>/manifest.json   format, step, examples, source offsets, pass, arrays
 *                                   (name, dtype, length, byte offset), sha256 of state.bin
 *     <root>/<step>/state.bin       the arrays, back to back (little-endian); per table its ids,
 *                                   row blocks and admission sketch (when admission counts)
 *     <root>/LATEST                 the newest complete checkpoint
 *
 * A checkpoint is written into `<root>/.tmp-<step>`, each file fsynced, renamed into place,
 * the directory fsynced, then LATEST replaced the same way; so after a crash at any point
 * the newest readable checkpoint is either the old or the new one, never half of one.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LionctrError } from '../errors.ts';
import { sha256 } from '../model/export-format.ts';
import { inTempDir, inWrite, replaceDurable, syncDir, writeDurable } from './durable-fs.ts';
import type { TrainState } from './train-state.ts';

export const CHECKPOINT_FORMAT = 'lionctr-checkpoint-1';

/** What a checkpoint records besides the TrainState. */
export interface CheckpointMeta {
  /** Examples trained so far (all passes). */
  examples: number;
  /** Per source position key (`<source>/<partition>`), the next offset to read. */
  sourceOffsets: Record<string, number>;
  /** File sources: the pass (0-based) in progress and the examples trained in it. */
  pass: number;
  passExamples: number;
  /** Event time of the newest trained example (ms), null if none. */
  watermarkMs: number | null;
  /** A fingerprint of the model config; a checkpoint of another model is refused. */
  modelFingerprint: string;
  /** The model config behind the fingerprint (schema + model.*), to say what differs. */
  modelConfig?: unknown;
}

/** A checkpoint read back. */
export interface Checkpoint {
  step: number;
  dir: string;
  meta: CheckpointMeta;
  state: TrainState;
}

type Dtype = 'float32' | 'uint32';
interface ArrayEntry {
  name: string;
  dtype: Dtype;
  length: number;
  byteOffset: number;
}
interface Manifest extends CheckpointMeta {
  format: string;
  step: number;
  denseLionStep: number;
  evictionClock?: { nowSec: number; lastSweepSec: number };
  created_at: string;
  tables: {
    slot: string;
    size: number;
    capacity?: number;
    dtype: 'float32' | 'bfloat16';
    stride: number;
    sketchSightings?: number;
  }[];
  arrays: ArrayEntry[];
  sha256: string;
  bytes: number;
}

/**
 * Writes a checkpoint of `state` + `meta` under `root` and keeps the newest `keep`.
 * Resolves once it is durable (files and directory entries fsynced).
 * @returns its directory and size in bytes.
 * @throws LionctrError LIONCTR_WRITE_FAILED (ENOSPC, EACCES, ...) naming the checkpoint, the file and
 *   the operation; its temp directory is removed at once and LATEST still names the previous one.
 */
export async function writeCheckpoint(
  root: string,
  state: TrainState,
  meta: CheckpointMeta,
  keep = 2,
): Promise<{ dir: string; bytes: number }> {
  await mkdir(root, { recursive: true });
  const parts: { name: string; dtype: Dtype; a: Float32Array | Uint32Array }[] = [];
  for (const [i, a] of state.tower.entries()) parts.push({ name: `tower/${i}`, dtype: 'float32', a });
  for (const [i, a] of state.towerMomentum.entries()) parts.push({ name: `tower_momentum/${i}`, dtype: 'float32', a });
  for (const t of state.tables) {
    parts.push({ name: `table/${t.slot}/id_hi`, dtype: 'uint32', a: t.rowHi });
    parts.push({ name: `table/${t.slot}/id_lo`, dtype: 'uint32', a: t.rowLo });
    parts.push({ name: `table/${t.slot}/blocks`, dtype: 'uint32', a: t.blocks });
    // the admission sketch's 8-bit counters as 32-bit words (its size is a multiple of 16 bytes)
    if (t.sketch) parts.push({ name: `table/${t.slot}/admission_sketch`, dtype: 'uint32', a: u32Of(t.sketch) });
    if (t.lastSeen) parts.push({ name: `table/${t.slot}/last_seen`, dtype: 'uint32', a: t.lastSeen });
  }
  const bytes = parts.reduce((s, p) => s + p.a.byteLength, 0);
  const bin = new Uint8Array(bytes);
  const arrays: ArrayEntry[] = [];
  let off = 0;
  for (const p of parts) {
    bin.set(new Uint8Array(p.a.buffer, p.a.byteOffset, p.a.byteLength), off);
    arrays.push({ name: p.name, dtype: p.dtype, length: p.a.length, byteOffset: off });
    off += p.a.byteLength;
  }
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    step: state.step,
    denseLionStep: state.denseLionStep,
    ...(state.evictionClock ? { evictionClock: state.evictionClock } : {}),
    created_at: new Date().toISOString(),
    ...meta,
    tables: state.tables.map((t) => ({
      slot: t.slot,
      size: t.size,
      ...(t.capacity ? { capacity: t.capacity } : {}),
      dtype: t.dtype,
      stride: t.stride,
      ...(t.sketch ? { sketchSightings: t.sketchSightings ?? 0 } : {}),
    })),
    arrays,
    sha256: sha256(bin),
    bytes,
  };
  const name = String(state.step);
  const tmp = join(root, `.tmp-${name}`);
  // leftovers of writes cut short by a crash (the directory lock makes us the only writer)
  for (const n of await readdir(root))
    if (n.startsWith('.tmp-')) await rm(join(root, n), { recursive: true, force: true });
  const dir = join(root, name);
  // a failed write removes its temp dir at once: nothing of it stays on a full disk
  await inTempDir(tmp, `checkpoint step ${name} under ${root}`, async () => {
    await mkdir(tmp);
    await writeDurable(join(tmp, 'state.bin'), bin);
    await writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    await syncDir(tmp);
    await rm(dir, { recursive: true, force: true }); // a same-step leftover of a run that crashed after it
    await rename(tmp, dir);
  });
  // complete and durable now: a failure to name it in LATEST leaves it valid (read as the newest step)
  await replaceDurable(root, 'LATEST', `${name}\n`).catch((e) => {
    throw inWrite(e, `checkpoint step ${name} under ${root}`);
  });
  await syncDir(root);
  const steps = (await readdir(root)).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a));
  for (const s of steps.slice(Math.max(keep, 1)))
    if (s !== name) await rm(join(root, s), { recursive: true, force: true });
  return { dir, bytes };
}

/**
 * Reads one checkpoint directory and verifies it (format, sha256, array bounds).
 * @throws LionctrError LIONCTR_BAD_CHECKPOINT saying what is wrong and where; filesystem errors
 *   (ENOENT) and the SyntaxError of an unparsable manifest.json as they come.
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const bad = (msg: string) => new LionctrError('LIONCTR_BAD_CHECKPOINT', msg);
  if (m.format !== CHECKPOINT_FORMAT) throw bad(`${dir}: format "${m.format}", expected "${CHECKPOINT_FORMAT}"`);
  const buf = await readFile(join(dir, 'state.bin'));
  if (buf.byteLength !== m.bytes || sha256(buf) !== m.sha256) {
    throw bad(`${dir}/state.bin: checksum mismatch (truncated or corrupt)`);
  }
  const bin = new Uint8Array(buf.byteLength);
  bin.set(buf); // aligned copy
  const arr = new Map<string, Float32Array | Uint32Array>();
  for (const a of m.arrays) {
    const C = a.dtype === 'float32' ? Float32Array : Uint32Array;
    const outside = a.byteOffset + a.length * 4 > bin.byteLength || a.byteOffset % 4;
    if (outside) throw bad(`${dir}: array ${a.name} out of bounds`);
    arr.set(a.name, new C(bin.buffer, a.byteOffset, a.length));
  }
  const get = <T>(name: string): T => {
    const a = arr.get(name);
    if (!a) throw bad(`${dir}: array ${name} missing`);
    return a as T;
  };
  const nTower = m.arrays.filter((a) => a.name.startsWith('tower/')).length;
  const state: TrainState = {
    step: m.step,
    denseLionStep: m.denseLionStep,
    ...(m.evictionClock ? { evictionClock: m.evictionClock } : {}),
    tower: Array.from({ length: nTower }, (_, i) => get<Float32Array>(`tower/${i}`)),
    towerMomentum: Array.from({ length: nTower }, (_, i) => get<Float32Array>(`tower_momentum/${i}`)),
    tables: m.tables.map((t) => ({
      ...t,
      rowHi: get<Uint32Array>(`table/${t.slot}/id_hi`),
      rowLo: get<Uint32Array>(`table/${t.slot}/id_lo`),
      blocks: get<Uint32Array>(`table/${t.slot}/blocks`),
      ...sketchOf(arr.get(`table/${t.slot}/admission_sketch`)),
      ...lastSeenOf(arr.get(`table/${t.slot}/last_seen`)),
    })),
  };
  const meta: CheckpointMeta = {
    examples: m.examples,
    sourceOffsets: m.sourceOffsets,
    pass: m.pass,
    passExamples: m.passExamples,
    watermarkMs: m.watermarkMs,
    modelFingerprint: m.modelFingerprint,
    modelConfig: m.modelConfig,
  };
  return { step: m.step, dir, meta, state };
}

/**
 * The newest valid checkpoint under `root`: LATEST first, then the other step directories
 * newest first (a bad one is reported through `onBad` and passed over). Null when none.
 */
export async function readLatestCheckpoint(
  root: string,
  onBad: (dir: string, err: Error) => void = () => {},
): Promise<Checkpoint | null> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return null;
  }
  const steps = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a));
  const latest = await readFile(join(root, 'LATEST'), 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  const order = /^\d+$/.test(latest) && steps.includes(latest) ? [latest, ...steps.filter((s) => s !== latest)] : steps;
  for (const s of order) {
    try {
      return await readCheckpoint(join(root, s));
    } catch (e) {
      onBad(join(root, s), e as Error);
    }
  }
  return null;
}

/** The words of an admission sketch (byte length a multiple of 4). */
function u32Of(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
}

/** `{ sketch }` of a checkpoint's admission sketch array, `{}` when it has none. */
function sketchOf(a: Float32Array | Uint32Array | undefined): { sketch?: Uint8Array } {
  return a ? { sketch: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) } : {};
}

/** `{ lastSeen }` of a checkpoint's last-seen array, `{}` when it has none. */
function lastSeenOf(a: Float32Array | Uint32Array | undefined): { lastSeen?: Uint32Array } {
  return a ? { lastSeen: a as Uint32Array } : {};
}
