/**
 * Predict over real HTTP takes the fast path for plain row bodies (src/serve/json-fast.ts) and
 * the slow path for the same instances with a signature_name or in columnar form: all give the
 * same predictions, equal to the model's own scores within 1e-6; concurrent requests (whose tower
 * runs may be merged, src/model/serving-tower.ts; test/unit/model/tower-merge.test.ts makes sure
 * they are) get the scores they get one at a time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createHttpServer } from '../../src/serve/http-server.ts';
import { fastPathBodies } from '../../src/serve/json-fast.ts';
import type { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';
import { serveOnLoopback } from '../helpers/served-http.ts';

describe('predict fast path over HTTP', () => {
  let dir: string, base: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  const predict = async (body: unknown): Promise<number[]> => {
    const res = await fetch(`${base}/v1/models/ctr:predict`, { method: 'POST', body: JSON.stringify(body) });
    const got = (await res.json()) as { predictions?: number[]; outputs?: number[] };
    expect(res.status).toBe(200);
    return (got.predictions ?? got.outputs) as number[];
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-fast-'));
    trained = await tinyTrainedModel(2);
    await writeExport(dir, trained.model, { step: 1, examples: 0, sourceOffsets: {}, watermarkMs: null, metrics: {} });
    ({ registry, app, base } = await serveOnLoopback(dir));
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    trained?.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('fast and slow paths give the same predictions, the model scores within 1e-6', async () => {
    const instances: Record<string, unknown>[] = sampleInstances(16, trained.schema);
    instances[3] = { ...instances[3], C1: null, I2: 7 }; // a missing value and an integer
    delete instances[5].C2;
    const before = fastPathBodies();
    const fast = await predict({ instances });
    expect(fastPathBodies()).toBe(before + 1);
    const slow = await predict({ instances, signature_name: 'serving_default' });
    const columns = Object.fromEntries(
      [...trained.schema.categorical, ...trained.schema.numeric].map((s) => [s, instances.map((r) => r[s] ?? null)]),
    );
    const columnar = await predict({ inputs: columns });
    expect(fastPathBodies()).toBe(before + 1);
    expect(fast).toEqual(slow);
    expect(fast).toEqual(columnar);
    const m = registry.current();
    if (!m) throw new Error('no model');
    const want = await m.model.score(m.featurizer.fromInstances(instances));
    for (let i = 0; i < fast.length; i++) expect(Math.abs(fast[i] - want[i])).toBeLessThan(1e-6);
  });

  it('concurrent requests get the predictions they get one at a time', async () => {
    const bodies = Array.from({ length: 12 }, (_, k) => ({
      instances: sampleInstances(1 + k, trained.schema).map((r, i) => ({ ...r, C3: `v${k}-${i}` })),
    }));
    const alone: number[][] = [];
    for (const b of bodies) alone.push(await predict(b));
    const together = await Promise.all(bodies.map((b) => predict(b)));
    together.forEach((p, k) => {
      expect(p.length).toBe(alone[k].length);
      for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - alone[k][i])).toBeLessThan(1e-6);
    });
  });
});
