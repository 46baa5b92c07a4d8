import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { createHttpServer, VERSION_HEADER } from '../../../src/serve/http-server.ts';
import type { ModelRegistry } from '../../../src/serve/model-registry.ts';

/** A server over one fake version whose model scores `scores`, logging into `lines`. */
function serverWith(scores: number[]) {
  const featurizer = new Featurizer({ numeric: ['I1'], categorical: ['C1'], embeddingDim: 2 });
  const served = { version: '7', featurizer, model: { score: async () => new Float32Array(scores) } };
  const registry = {
    current: () => served,
    acquire: () => ({ version: '7', value: served, release: () => {} }),
    lastError: undefined,
  } as unknown as ModelRegistry;
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { app: createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', logger }), lines };
}

describe('5xx answers are logged', () => {
  it('logs a 500 (a non-finite score) with its message; the answer names the version; 4xx are not logged', async () => {
    const { app, lines } = serverWith([0.5, Number.POSITIVE_INFINITY]);
    const r = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances: [{}, {}] } });
    expect(r.statusCode).toBe(500);
    expect(r.headers[VERSION_HEADER]).toBe('7');
    const msg = 'model version 7 gave a non-finite score (Infinity) for instances[1] (at instances[1])';
    expect(r.json()).toEqual({ error: msg, code: 'LIONCTR_INTERNAL', where: 'instances[1]' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, status: 500, route: 'predict', code: 'LIONCTR_INTERNAL' });
    expect(lines[0].msg).toBe(`POST /v1/models/ctr:predict answered 500: ${msg}`);

    const bad = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: '{}' });
    expect(bad.statusCode).toBe(400);
    const big = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: 'x'.repeat(9 << 20) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ where: 'body', error: expect.stringMatching(/limit 8388608 bytes/) });
    const get = await app.inject({ method: 'GET', url: '/v1/models/ctr:predict' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(lines).toHaveLength(1);
    await app.close();
  });

  it('a finite score is served as a number, columnar requests answer "outputs"', async () => {
    const { app } = serverWith([0.25, 0.75]);
    const r = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: { inputs: { C1: ['a', 'b'], I1: [1, 2] } },
    });
    expect(r.json()).toEqual({ outputs: [0.25, 0.75] });
    await app.close();
  });
});
