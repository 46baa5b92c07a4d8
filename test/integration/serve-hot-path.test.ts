/**
 * The predict hot path (src/serve/predict-hot-path.ts: POST ...:predict answered on Node's
 * 'request' event, before fastify) answers every request as the fastify route does: for good
 * bodies (rows, columns, a version, a label) and each fault (bad JSON, not UTF-8, an unknown slot,
 * a string for a numeric slot, too many keys, an unknown version or label, a bad signature), the
 * same status, body, content type, version and worker headers; requests it does not take
 * (gzip, chunked, empty, other routes) reach fastify. Real HTTP (node:http) against fastify's
 * inject (which calls fastify's handler directly, never the hot path).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer, VERSION_HEADER } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { hotPathRequests } from '../../src/serve/predict-hot-path.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

type Answer = { status: number; text: string; headers: Record<string, unknown> };
const meta = { step: 1, examples: 0, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const KEPT = ['content-type', VERSION_HEADER, 'x-test-worker', 'allow'];

/** One request over real HTTP (port `port`), its status, body and the headers compared. */
function call(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString(), headers: res.headers }),
      );
    });
    req.on('error', fail);
    req.end(body);
  });
}
const kept = (h: Record<string, unknown>) => Object.fromEntries(KEPT.map((k) => [k, h[k] ?? null]));

describe('predict hot path', () => {
  let dir: string, version: string, port: number;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  const metrics = createMetrics();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-hot-'));
    const trained = await tinyTrainedModel(2);
    version = (await writeExport(dir, trained.model, meta)).version;
    trained.model.dispose();
    registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0, { keepVersions: 1, labels: { stable: version } });
    await registry.check();
    const responseHeaders = { 'x-test-worker': '7' };
    app = createHttpServer({ registry, metrics, modelName: 'ctr', responseHeaders });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers as the fastify route, status, body and headers, for good and bad bodies', async () => {
    const served = registry.current();
    if (!served) throw new Error('no model loaded');
    const rows = sampleInstances(3, served.featurizer.schema);
    const C1 = rows.map((r) => r.C1);
    // more keys than slots + KEY_MARGIN: 400 before JSON.parse, in the fast form and out of it
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    const cases: [string, string | Buffer][] = [
      ['/v1/models/ctr:predict', JSON.stringify({ instances: rows })],
      ['/v1/models/ctr:predict', JSON.stringify({ instances: rows, signature_name: 'serving_default' })],
      ['/v1/models/ctr:predict', JSON.stringify({ inputs: { C1 } })],
      [`/v1/models/ctr/versions/${version}:predict`, JSON.stringify({ instances: rows })],
      ['/v1/models/ctr/labels/stable:predict', JSON.stringify({ instances: rows })],
      ['/V1/MODELS/ctr:predict?x=1', JSON.stringify({ instances: rows })],
      ['/v1/models/ctr:predict', '{"instances": [{"C1": "a"}'],
      ['/v1/models/ctr:predict', Buffer.from([0x7b, 0xff, 0x7d])],
      ['/v1/models/ctr:predict', JSON.stringify({ instances: [{ C99: 'a' }] })],
      ['/v1/models/ctr:predict', JSON.stringify({ instances: [{ I1: '1.5' }] })],
      ['/v1/models/ctr:predict', JSON.stringify({ instances: [{}], signature_name: 'x' })],
      [
        '/v1/models/ctr:predict',
        JSON.stringify({ instances: [Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))] }),
      ],
      ['/v1/models/ctr:predict', JSON.stringify({ signature_name: '', instances: [many] })],
      ['/v1/models/ctr/versions/1:predict', JSON.stringify({ instances: [many] })],
      ['/v1/models/ctr/versions/1:predict', JSON.stringify({ instances: rows })],
      ['/v1/models/ctr/labels/nope:predict', JSON.stringify({ instances: rows })],
      ['/v1/models/other:predict', JSON.stringify({ instances: rows })],
      ['/v1/models/ctr:predict', '[1, 2]'],
    ];
    for (const [path, body] of cases) {
      const raw = typeof body === 'string' ? Buffer.from(body) : body;
      const before = hotPathRequests();
      const hot = await call(port, path, raw, { 'content-type': 'application/json' });
      expect(hotPathRequests(), path).toBe(before + 1);
      const viaFastify = await app.inject({
        method: 'POST',
        url: path,
        payload: raw,
        headers: { 'content-type': 'application/json' },
      });
      const want = { status: viaFastify.statusCode, text: viaFastify.body, headers: kept(viaFastify.headers) };
      expect({ status: hot.status, text: hot.text, headers: kept(hot.headers) }, `${path} ${raw}`).toEqual(want);
    }
  });

  it('leaves gzip, chunked, empty and other requests to fastify, with the same answers', async () => {
    const body = JSON.stringify({ instances: [{ C1: 'a' }] });
    const before = hotPathRequests();
    const gz = await call(port, '/v1/models/ctr:predict', gzipSync(body), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(200);
    const chunked = await call(port, '/v1/models/ctr:predict', Buffer.from(body), {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    });
    expect(chunked.text).toBe(gz.text);
    const empty = await call(port, '/v1/models/ctr:predict', Buffer.alloc(0), { 'content-type': 'application/json' });
    expect(JSON.parse(empty.text).error).toBe('JSON Parse error: The document is empty');
    const classify = await call(port, '/v1/models/ctr:classify', Buffer.from('{"examples":[{}]}'), {
      'content-type': 'application/json',
    });
    expect(classify.status).toBe(200);
    expect(kept(classify.headers)['x-test-worker']).toBe('7');
    expect(hotPathRequests()).toBe(before);
    const counted = (await metrics.serveRequests.get()).values.find(
      (v) => v.labels.route === 'predict' && v.labels.code === '200',
    );
    expect(counted?.value).toBe(2 * 6 + 2); // 6 good bodies both ways, then gzip and chunked
  });
});
