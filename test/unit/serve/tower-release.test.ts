/**
 * ONNX sessions follow the versions' reference counts: over many hot swaps the registry holds one
 * session per loaded version, a version dropped during a request keeps its session (and scores
 * with it) until the request ends, and stop() releases the rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { configureServingTower, liveOnnxSessions } from '../../../src/model/serving-tower.ts';
import { createHttpServer, VERSION_HEADER } from '../../../src/serve/http-server.ts';
import { ModelRegistry } from '../../../src/serve/model-registry.ts';
import { nextTurn, PREDICT_CHUNK } from '../../../src/serve/scoring.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('ONNX sessions are freed with their version', () => {
  let dir: string;
  afterAll(async () => {
    configureServingTower({ kind: 'auto' });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("one session per loaded version over 6 swaps; a request keeps its version's session until it ends", async () => {
    configureServingTower({ kind: 'onnx', threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'lionctr-tower-release-'));
    const trained = await tinyTrainedModel(1, 256);
    const before = liveOnnxSessions();
    const registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0, { keepVersions: 2 });
    for (let i = 1; i <= 6; i++) {
      await writeExport(dir, trained.model, meta(i), 3);
      await registry.check();
      expect(liveOnnxSessions() - before).toBe(Math.min(i, 2));
    }

    // a chunked request on the current version while two newer versions push it out
    const instances = sampleInstances(PREDICT_CHUNK + 10, trained.schema);
    const held = registry.current();
    if (!held) throw new Error('nothing loaded');
    let during = -1;
    const yieldTurn = async () => {
      if (during < 0) {
        for (const step of [7, 8]) {
          await writeExport(dir, trained.model, meta(step), 3);
          await registry.check();
        }
        during = liveOnnxSessions() - before;
      }
      await nextTurn();
    };
    const want = Array.from(await held.model.score(held.featurizer.fromInstances(instances)));
    const app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', yieldTurn });
    const res = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers[VERSION_HEADER]).toBe(held.version);
    expect((res.json() as { predictions: number[] }).predictions).toEqual(want);
    expect(during).toBe(3); // the two kept versions and the dropped one the request holds
    expect(liveOnnxSessions() - before).toBe(2); // released when the request ended
    await app.close();
    registry.stop();
    expect(liveOnnxSessions()).toBe(before);
    trained.model.dispose();
  });
});
