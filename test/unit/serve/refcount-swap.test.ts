import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { createHttpServer, VERSION_HEADER } from '../../../src/serve/http-server.ts';
import { ModelRegistry } from '../../../src/serve/model-registry.ts';
import { nextTurn, PREDICT_CHUNK } from '../../../src/serve/scoring.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('a version swapped out during a chunked request (reference counts)', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finishes with the old version's scores; the old model is freed after the request, not during it", async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-refcount-'));
    const trained = await tinyTrainedModel(2);
    const v1 = (await writeExport(dir, trained.model, meta(1))).version;
    // keepVersions 1: the swap drops v1 at once, the strictest case
    const registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0, { keepVersions: 1 });
    await registry.check();
    const old = registry.current();
    if (!old) throw new Error('v1 did not load');
    const dispose = vi.spyOn(old.model, 'dispose');
    const instances = sampleInstances(PREDICT_CHUNK * 2 + 500, trained.schema); // 3 chunks
    const want = Array.from(await old.model.score(old.featurizer.fromInstances(instances)));

    trained.step.run(trained.featurizer.fromInstances(sampleInstances(64, trained.schema)));
    await writeExport(dir, trained.model, meta(2));
    let seen: { version?: string; disposed: number; tensors: number; inFlight: Record<string, number> } | undefined;
    // between the first and second chunk: publish v2 and swap to it
    const yieldTurn = async () => {
      if (!seen) {
        await registry.check();
        seen = {
          version: registry.current()?.version,
          disposed: dispose.mock.calls.length,
          tensors: tf.memory().numTensors,
          inFlight: registry.inFlight(),
        };
      }
      await nextTurn();
    };
    const app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', yieldTurn });
    const res = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances } });

    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers[VERSION_HEADER]).toBe(v1);
    expect((res.json() as { predictions: number[] }).predictions).toEqual(want);
    expect(seen?.version).not.toBe(v1); // the swap happened during the request
    expect(seen?.inFlight).toEqual({ [v1]: 1, [registry.current()?.version as string]: 0 });
    expect(seen?.disposed).toBe(0); // not freed under the running request
    expect(dispose).toHaveBeenCalledTimes(1); // freed when it ended
    expect(tf.memory().numTensors).toBeLessThan(seen?.tensors as number);
    expect(registry.inFlight()).toEqual({ [registry.current()?.version as string]: 0 });

    const next = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances: [{}] } });
    expect(next.headers[VERSION_HEADER]).toBe(registry.current()?.version);
    await app.close();
    registry.stop();
    trained.model.dispose();
  });
});
