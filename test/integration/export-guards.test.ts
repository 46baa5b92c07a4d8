/**
 * What an export must be before it is served (issue 11). A diverged model is never served: an
 * export with NaN or infinite weights, in the tower or in an embedding table, is refused at load
 * with LIONCTR_BAD_EXPORT naming the file, frees what it had built, and the registry keeps the
 * version it serves; a model that still scores an instance as NaN answers 500 with a message,
 * never `null`. And an export is durable before it is visible: every file, its directories,
 * LATEST and the exports root are fsynced, as checkpoints are (counted by spying on
 * FileHandle.sync, the call behind fsync in node:fs/promises).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { putNonFinite } from '../helpers/nonfinite-export.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('exports: non-finite weights and scores, durability', () => {
  let dir: string;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-nonfinite-'));
    trained = await tinyTrainedModel(2);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    trained.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('a NaN tower weight or an infinite embedding value: the export is refused, the served one kept', async () => {
    const good = (await writeExport(dir, trained.model, meta(1))).version;
    const registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
    await registry.check();
    expect(registry.current()?.version).toBe(good);

    // writeExport refuses such weights (test/unit/train/finite-check.test.ts): the bad
    // values go into written exports, checksums updated
    const badTower = (await writeExport(dir, trained.model, meta(2))).version;
    await putNonFinite(join(dir, badTower), 'dense/weights.bin', 3, Number.NaN);
    const before = tf.memory().numTensors;
    await expect(loadExport(join(dir, badTower))).rejects.toMatchObject({
      code: 'LIONCTR_BAD_EXPORT',
      message: expect.stringMatching(/1 of \d+ weights are NaN or infinite.*dense\/weights\.bin/),
    });
    expect(tf.memory().numTensors).toBe(before); // the tower built before the check is freed
    await registry.check();
    expect(registry.current()?.version).toBe(good);
    expect(registry.lastError?.version).toBe(badTower);

    const t = trained.model.tables[0];
    expect(t.size).toBeGreaterThan(0);
    const badTable = (await writeExport(dir, trained.model, meta(3))).version;
    await putNonFinite(join(dir, badTable), `embeddings/${t.slot}.arrow`, 0, Number.POSITIVE_INFINITY, t.width);
    await expect(loadExport(join(dir, badTable))).rejects.toMatchObject({
      code: 'LIONCTR_BAD_EXPORT',
      message: expect.stringContaining(`embeddings/${t.slot}.arrow`),
    });
    expect(tf.memory().numTensors).toBe(before);
    await registry.check();
    expect(registry.current()?.version).toBe(good);
    registry.current()?.model.dispose();
  });

  it('a NaN score answers 500 LIONCTR_INTERNAL naming the instance, not a null prediction', async () => {
    const served = {
      version: '7',
      featurizer: trained.featurizer,
      model: {
        predict: () => new Float32Array([0.5, Number.NaN]),
        score: async () => new Float32Array([0.5, Number.NaN]),
      },
    };
    const registry = {
      current: () => served,
      acquire: () => ({ version: served.version, value: served, release: () => {} }),
      lastError: undefined,
      on: () => registry,
    } as unknown as ModelRegistry;
    const app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: { instances: sampleInstances(2, trained.schema) },
    });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({
      error: 'model version 7 gave a non-finite score (NaN) for instances[1] (at instances[1])',
      code: 'LIONCTR_INTERNAL',
      where: 'instances[1]',
    });
    await app.close();
  });

  it('fsyncs every file, its directories, LATEST and the root before and after the renames', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    await rm(join(dir, 'probe'));
    const synced: string[] = [];
    const sync = vi.spyOn(FileHandle, 'sync');
    sync.mockImplementation(async function (this: { fd: number }) {
      synced.push(String(this.fd));
    });
    const { version } = await writeExport(dir, trained.model, {
      step: 1,
      examples: 1,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    const files = (await readdir(join(dir, version), { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    // the version's files + manifest, its three directories, LATEST's temp file and the root
    expect(files.length).toBeGreaterThan(trained.model.tables.length);
    expect(synced.length).toBe(files.length + 3 + 1 + 1);
  });
});
