/**
 * writeDelta on real files (src/train/delta-writer.ts): what a delta directory holds (only
 * the slots with changed rows, tombstones only when some ids were removed, every file in
 * the manifest with its sha256), its chain fields, and the refusal of non-finite weights in
 * the tower or in a changed row before anything is written, while a non-finite weight in a
 * row that did not change is not read (the last export checked it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { checkDeltaChain, parseDeltaManifest } from '../../../src/model/delta-format.ts';
import { DeltaExports } from '../../../src/train/delta-exports.ts';
import { writeDelta } from '../../../src/train/delta-writer.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { useFixture } from '../../helpers/fixture.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const fx = useFixture();
const meta = { step: 2, examples: 512, sourceOffsets: { 's/0': 512 }, watermarkMs: 5, metrics: { auc: 0.6 } };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('writeDelta', () => {
  it('writes changed slots, tombstones when given, the dense tower, and chains to the base', async () => {
    const t = await tinyTrainedModel(2, 256);
    const root = fx.tempDir('dwrite');
    const base = await writeExport(root, t.model, meta);
    const baseBytes = await readFile(join(base.dir, 'manifest.json'));
    const prev = { baseVersion: base.version, nextSeq: 1, version: base.version, manifestBytes: baseBytes };
    const rows = t.model.tables.map(() => new Int32Array(0));
    rows[0] = Int32Array.of(0, 2, 5);
    rows[3] = Int32Array.of(1);
    const slots = t.model.slots;
    const removed = { [slots[1]]: { hi: Uint32Array.of(7), lo: Uint32Array.of(9) } };
    const d = await writeDelta(base.dir, prev, t.model, rows, meta, removed);
    expect(d.dir).toBe(join(base.dir, 'delta-1'));
    expect(d.rows).toBe(4);
    expect(d.tombstones).toBe(1);
    expect((await readdir(base.dir)).filter((n) => n.includes('delta'))).toEqual(['delta-1']);

    const bytes = await readFile(join(d.dir, 'manifest.json'));
    const m = parseDeltaManifest(bytes.toString('utf8'), 'manifest.json');
    expect(() => checkDeltaChain(m, prev, d.dir)).not.toThrow();
    expect(m).toMatchObject({ seq: 1, base_version: base.version, step: 2, examples: 512, event_time_watermark_ms: 5 });
    expect(Object.keys(m.files).sort()).toEqual(
      [
        'dense/model.json',
        'dense/model.onnx',
        'dense/weights.bin',
        `embeddings/${slots[0]}.arrow`,
        `embeddings/${slots[3]}.arrow`,
        `tombstones/${slots[1]}.arrow`,
      ].sort(),
    );
    for (const [rel, sum] of Object.entries(m.files)) expect(sha(await readFile(join(d.dir, rel))), rel).toBe(sum);
    expect(m.rows[slots[0]]).toBe(3);
    expect(m.rows[slots[2]]).toBe(0);
    expect(m.tombstones[slots[1]]).toBe(1);
    const e0 = arrow.tableFromIPC(await readFile(join(d.dir, `embeddings/${slots[0]}.arrow`)));
    const tb = t.model.tables[0];
    const ids = [...(e0.getChild('id')!.toArray() as BigUint64Array)];
    expect(ids).toEqual([0, 2, 5].map((r) => (BigInt(tb.idHi(r)) << 32n) | BigInt(tb.idLo(r))));
    expect([...(e0.getChild('vector')!.get(1)!.toArray() as Float32Array)]).toEqual([...tb.rows.getWeights(2)]);
    const tomb = arrow.tableFromIPC(await readFile(join(d.dir, `tombstones/${slots[1]}.arrow`)));
    expect([...(tomb.getChild('id')!.toArray() as BigUint64Array)]).toEqual([(7n << 32n) | 9n]);

    // the next one chains onto this one; without removals there is no tombstones dir
    const d2 = await writeDelta(base.dir, d.next, t.model, rows, meta);
    const m2 = parseDeltaManifest(await readFile(join(d2.dir, 'manifest.json'), 'utf8'), 'm');
    expect(m2.prev_sha256).toBe(sha(bytes));
    expect(BigInt(m2.version)).toBeGreaterThan(BigInt(m.version));
    expect(await readdir(d2.dir)).not.toContain('tombstones');
    t.model.dispose();
  });

  it('refuses non-finite weights of the tower or a changed row, writing nothing; unchanged rows not read', async () => {
    const t = await tinyTrainedModel(2, 256);
    const root = fx.tempDir('drefuse');
    const base = await writeExport(root, t.model, meta);
    const prev = {
      baseVersion: base.version,
      nextSeq: 1,
      version: base.version,
      manifestBytes: await readFile(join(base.dir, 'manifest.json')),
    };
    const rows = t.model.tables.map(() => new Int32Array(0));
    rows[1] = Int32Array.of(0, 1);
    const table = t.model.tables[1];
    table.rows.data[table.rows.weightsAt(4)] = Number.NaN; // row 4 did not change: not read
    await writeDelta(base.dir, prev, t.model, rows, meta);
    table.rows.data[table.rows.weightsAt(1) + 2] = Number.POSITIVE_INFINITY;
    const v = t.model.tower.vars[0];
    const w = v.dataSync().slice();
    w[0] = Number.NaN;
    tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
    const listing = await readdir(base.dir);
    await expect(
      writeDelta(base.dir, { ...prev, nextSeq: 2, version: String(Number(base.version) + 1) }, t.model, rows, meta),
    ).rejects.toMatchObject({
      code: 'LIONCTR_DIVERGED',
      message: expect.stringMatching(
        new RegExp(
          `refusing to write delta 2 under .*: NaN or infinite weights in dense ${v.name} \\(1 of \\d+\\), ` +
            `embeddings ${table.slot} \\(1 of ${2 * table.width}\\)`,
        ),
      ),
    });
    expect(await readdir(base.dir)).toEqual(listing);
    t.model.dispose();
  });

  it('DeltaExports: none before a full export, skipped when unchanged, tombstones alone are a delta', async () => {
    const t = await tinyTrainedModel(1, 64);
    const root = fx.tempDir('dchain');
    const deltas = new DeltaExports(t.step, root, 1e-6, pino({ level: 'silent' }));
    expect(deltas.due(performance.now() + 1)).toBe(false); // no chain yet
    expect(await deltas.write(t.model, meta)).toBeNull();
    const base = await writeExport(root, t.model, meta);
    await deltas.startChain(base.version);
    expect(deltas.due(performance.now() + 1)).toBe(true);
    expect(await deltas.write(t.model, meta)).toBeNull(); // nothing trained since the base
    expect(deltas.skipped).toBe(1);
    expect(deltas.lastVersion).toBeUndefined();
    deltas.remove(t.model.slots[2], 1, 2);
    const e = await deltas.write(t.model, meta);
    expect(e).toMatchObject({ base: base.version, seq: 1, rows: 0, tombstones: 1 });
    expect(deltas.lastVersion).toBe(e!.version);
    expect(await readdir(join(base.dir, 'delta-1'))).toContain('tombstones');
    expect(await deltas.write(t.model, meta)).toBeNull(); // the removal went with delta 1
    t.model.dispose();
  });
});
