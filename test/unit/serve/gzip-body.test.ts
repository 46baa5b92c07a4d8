/**
 * `Content-Encoding: gzip` request bodies: inflated as TF Serving's HTTP server inflates them
 * (evhttp_request.cc NeedUncompressGzipContent), bounded by serve.maxBodyBytes after inflation
 * (a zip bomb gets 413 without being inflated whole); bytes that are not gzip get 400.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../../src/serve/http-server.ts';
import { ModelRegistry } from '../../../src/serve/model-registry.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = { step: 1, examples: 512, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const LIMIT = 64 * 1024;

describe('gzip request bodies', () => {
  let dir: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let body: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-gzip-'));
    const trained = await tinyTrainedModel(2);
    await writeExport(dir, trained.model, meta);
    body = JSON.stringify({ instances: sampleInstances(3, trained.schema) });
    trained.model.dispose();
    registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0, { keepVersions: 1 });
    await registry.check();
    app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', limits: { maxBodyBytes: LIMIT } });
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const predict = (payload: Buffer | string, encoding?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload,
      headers: { 'content-type': 'application/json', ...(encoding ? { 'content-encoding': encoding } : {}) },
    });

  it('scores a gzip body as the same body plain', async () => {
    const plain = await predict(body);
    expect(plain.statusCode).toBe(200);
    for (const enc of ['gzip', 'x-gzip', 'GZIP']) {
      const r = await predict(gzipSync(body), enc);
      expect([enc, r.statusCode, r.json()]).toEqual([enc, 200, plain.json()]);
    }
  });

  it('answers 413 to a body that inflates past serve.maxBodyBytes (a zip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * LIMIT, 0x20)); // 4 MiB of spaces: ~4 KiB compressed
    expect(bomb.length).toBeLessThan(LIMIT);
    const r = await predict(bomb, 'gzip');
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'LIONCTR_BODY_TOO_LARGE', where: 'body' });
    expect(r.json().error).toMatch(/inflates \(Content-Encoding: gzip\) past 65536 bytes \(serve\.maxBodyBytes\)/);
  });

  it('answers 400 to bytes that are not gzip', async () => {
    const r = await predict(Buffer.from(body), 'gzip');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'LIONCTR_BAD_REQUEST', where: 'body' });
    expect(r.json().error).toMatch(/^Failed to uncompress the gzipped body: /);
  });
});
