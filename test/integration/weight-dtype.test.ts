/**
 * export.weightDtype end to end (src/model/weight-dtype.ts): a trained model exported as
 * float32, float16 and bfloat16 is loaded back for serving with every row weight equal, bit
 * for bit, to the dtype's rounding of the trained float32 weight (float32: the weight itself);
 * the manifest records the dtype and its checksums cover the stored bytes; the served
 * predictions of a 16-bit export stay within a stated tolerance of the float32 export's; a
 * float16 export of a weight past float16's range is refused (bfloat16 holds it); a delta
 * written as float16 or bfloat16 is read and applied with the same exactness; `lionctr train`
 * takes the dtype from the config; and test/python/repro.py reproduces the served predictions
 * of each dtype within 1e-5.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CtrModel } from '../../src/model/ctr-model.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import { sha256 } from '../../src/model/export-format.ts';
import { idHalf } from '../../src/model/row-ids.ts';
import { decodeWeights, encodeWeights, WEIGHT_DTYPES, type WeightDtype } from '../../src/model/weight-dtype.ts';
import { applyDeltaInPlace } from '../../src/serve/delta-applier.ts';
import { readDelta } from '../../src/serve/delta-reader.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { edgeInstanceLines } from '../helpers/edge-instances.ts';
import { useFixture } from '../helpers/fixture.ts';
import { findPython } from '../helpers/python-venv.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const run = promisify(execFile);
const fx = useFixture();
const meta = { step: 3, examples: 1536, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const REPRO = resolve(import.meta.dirname, '../python/repro.py');
/**
 * Largest |p16 - p32| allowed between a 16-bit export's served predictions and the float32 one's
 * (a weight moves by at most 2^-11 (float16) or 2^-8 (bfloat16) of itself; measured: 2e-6, 2e-5).
 */
const TOLERANCE: Record<WeightDtype, number> = { float32: 0, float16: 1e-4, bfloat16: 1e-3 };

/** The dtype's rounding of a table's trained weights, row by row: [size, W]. */
const rounded = (v: Float32Array, d: WeightDtype) => decodeWeights(encodeWeights(v, d), d);

/** Every row of `served` (by id) against `want` [n, W] of ids (hi, lo): the count of differing weights. */
function differing(served: CtrModel, f: number, hi: Uint32Array, lo: Uint32Array, want: Float32Array): number {
  const t = served.tables[f],
    W = t.width;
  let bad = 0;
  for (let i = 0; i < hi.length; i++) {
    const r = t.find(hi[i], lo[i]);
    const got = r < 0 ? null : t.rows.getWeights(r);
    for (let j = 0; j < W; j++) if (!got || !Object.is(got[j], want[i * W + j])) bad++;
  }
  return bad;
}

describe('export.weightDtype', () => {
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  const dirs = {} as Record<WeightDtype, string>;
  let root = '';
  // the fixture's dirs go after each test: these stay for all of them
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lionctr-wd-'));
    trained = await tinyTrainedModel(3);
    for (const d of WEIGHT_DTYPES)
      dirs[d] = (await writeExport(join(root, d), trained.model, { ...meta, weightDtype: d })).dir;
  });
  afterAll(() => {
    trained?.model.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(WEIGHT_DTYPES)('%s: loaded rows are the rounding of the trained weights, bit for bit', async (d) => {
    const manifest = JSON.parse(await readFile(join(dirs[d], 'manifest.json'), 'utf8'));
    expect(manifest.weight_dtype).toBe(d);
    for (const [rel, sum] of Object.entries(manifest.files))
      expect(sha256(await readFile(join(dirs[d], rel))), rel).toBe(sum);
    const served = await loadExport(dirs[d]);
    try {
      trained.model.tables.forEach((t, f) => {
        const want = rounded(t.rows.packedWeights(t.size), d);
        expect(served.model.tables[f].size).toBe(t.size);
        expect(differing(served.model, f, idHalf(t.ids, t.size, 0), idHalf(t.ids, t.size, 1), want)).toBe(0);
      });
    } finally {
      served.model.dispose();
    }
  });

  it('16-bit exports: smaller tables, served predictions within the stated tolerance of float32', async () => {
    const size = async (dir: string) => {
      let n = 0;
      for (const f of await readdir(join(dir, 'embeddings'))) n += (await stat(join(dir, 'embeddings', f))).size;
      return n;
    };
    const batch = trained.featurizer.fromInstances(sampleInstances(400, trained.schema));
    const p = {} as Record<WeightDtype, Float32Array>;
    const bytes = {} as Record<WeightDtype, number>;
    for (const d of WEIGHT_DTYPES) {
      const served = await loadExport(dirs[d]);
      p[d] = served.model.predict(batch);
      served.model.dispose();
      bytes[d] = await size(dirs[d]);
    }
    for (const d of ['float16', 'bfloat16'] as const) {
      const diff = Math.max(...p[d].map((x, i) => Math.abs(x - p.float32[i])));
      const was = `(float32 ${bytes.float32} B)`;
      console.log(`weight-dtype: ${d} tables ${bytes[d]} B ${was}, max |dp| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(TOLERANCE[d]);
      // ids stay 8 B a row, each of the W weights goes from 4 to 2 bytes
      expect(bytes[d]).toBeLessThan(bytes.float32 * 0.8);
    }
  });

  it('a corrupt byte of a 16-bit table fails its checksum', async () => {
    const file = join(dirs.bfloat16, 'embeddings', `${trained.model.slots[0]}.arrow`);
    const b = await readFile(file);
    b[b.length >> 1] ^= 1;
    const copy = fx.tempDir('wd-corrupt');
    await writeExport(copy, trained.model, { ...meta, weightDtype: 'bfloat16' });
    const dir = join(copy, (await readFile(join(copy, 'LATEST'), 'utf8')).trim());
    await writeFile(join(dir, 'embeddings', `${trained.model.slots[0]}.arrow`), b);
    await expect(loadExport(dir)).rejects.toThrow(/checksum mismatch/);
  });

  it('float16 refuses a weight beyond its range (LIONCTR_DIVERGED, nothing written); bfloat16 holds it', async () => {
    const t = trained.model.tables[1];
    const o = t.rows.weightsAt(0) + 1,
      was = t.rows.data[o];
    t.rows.data[o] = 70000;
    try {
      const root = fx.tempDir('wd-overflow');
      await expect(writeExport(root, trained.model, { ...meta, weightDtype: 'float16' })).rejects.toMatchObject({
        code: 'LIONCTR_DIVERGED',
        message: expect.stringMatching(/as float16 \(\|w\| >= 65520 overflows/),
      });
      expect((await readdir(root)).filter((n) => !n.startsWith('.'))).toEqual([]);
      const ok = await writeExport(root, trained.model, { ...meta, weightDtype: 'bfloat16' });
      const served = await loadExport(ok.dir);
      expect(served.model.tables[1].rows.data[served.model.tables[1].rows.weightsAt(0) + 1]).toBe(70144);
      served.model.dispose();
    } finally {
      t.rows.data[o] = was;
    }
  });

  it.each(['float16', 'bfloat16'] as const)('a %s delta is read and applied as the rounding of the rows', async (d) => {
    const base = await loadExport(dirs[d]);
    try {
      const baseBytes = await readFile(join(dirs[d], 'manifest.json'));
      const version = JSON.parse(baseBytes.toString()).version;
      const prev = { baseVersion: version, nextSeq: 1, version, manifestBytes: baseBytes };
      const rows = trained.model.tables.map((t) => Int32Array.from({ length: Math.min(5, t.size) }, (_, i) => i));
      const t0 = trained.model.tables[0];
      const saved = t0.rows.getWeights(2);
      t0.rows.setWeights(
        2,
        saved.map((x, j) => x + 0.0123 * (j + 1)),
      );
      try {
        const w = await writeDelta(dirs[d], prev, trained.model, rows, { ...meta, weightDtype: d });
        expect(w.manifest.weight_dtype).toBe(d);
        const parsed = await readDelta(w.dir, prev, base.model);
        applyDeltaInPlace(base.model, parsed);
        trained.model.tables.forEach((t, f) => {
          const n = rows[f].length;
          const want = rounded(t.rows.packedWeights(n), d);
          expect(differing(base.model, f, idHalf(t.ids, n, 0), idHalf(t.ids, n, 1), want)).toBe(0);
        });
      } finally {
        t0.rows.setWeights(2, saved);
      }
    } finally {
      base.model.dispose();
    }
  });
});

describe('export.weightDtype from the config', () => {
  it('lionctr train --set export.weightDtype=float16 writes a float16 export that loads', async () => {
    const dir = fx.tempDir('wd-cli');
    const args = ['--max-examples', '1024', '--export-dir', dir, '--set', 'export.gate.enabled=false'];
    await run('node', ['bin/lionctr.mjs', 'train', ...args, '--set', 'export.weightDtype=float16'], {
      timeout: 120_000,
    });
    const version = (await readFile(join(dir, 'LATEST'), 'utf8')).trim();
    const served = await loadExport(join(dir, version));
    expect(served.manifest.weight_dtype).toBe('float16');
    expect(served.model.tables.some((t) => t.size > 0)).toBe(true);
    served.model.dispose();
  });
});

const choice = await findPython();
describe.skipIf(!choice.python)('repro.py with each weight dtype', () => {
  it.each(WEIGHT_DTYPES)('%s: the served predictions within 1e-5', async (d) => {
    const t = await tinyTrainedModel(2);
    const lines = edgeInstanceLines(t.schema);
    t.model.gather(t.featurizer.fromInstances(lines.map((l) => JSON.parse(l))), true);
    const { dir } = await writeExport(fx.tempDir(`wd-py-${d}`), t.model, { ...meta, weightDtype: d });
    t.model.dispose();
    const served = await loadExport(dir);
    const want = served.model.predict(t.featurizer.fromInstances(lines.map((l) => JSON.parse(l))));
    served.model.dispose();
    const jsonl = join(dir, '..', 'instances.jsonl');
    await writeFile(jsonl, `${lines.join('\n')}\n`);
    const { stdout } = await run(choice.python!, [REPRO, dir, jsonl], { timeout: 60_000 });
    const got = (JSON.parse(stdout) as { predictions: number[] }).predictions;
    expect(got).toHaveLength(lines.length);
    expect(Math.max(...got.map((p, i) => Math.abs(p - want[i])))).toBeLessThan(1e-5);
  });
});
