import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import { createHttpServer, VERSION_HEADER } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const meta = (step: number) => ({
  step,
  examples: step * 512,
  sourceOffsets: { 'synthetic/0': step * 512 },
  watermarkMs: 123,
  metrics: { auc: 0.7 },
});

describe('export + HTTP prediction endpoint', () => {
  let dir: string;
  let base: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  let v1: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-export-'));
    trained = await tinyTrainedModel(5);
    v1 = (await writeExport(dir, trained.model, meta(5))).version;
    registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
    await registry.check();
    app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the DESIGN.md layout and loads back to identical predictions', async () => {
    expect((await readFile(join(dir, 'LATEST'), 'utf8')).trim()).toBe(v1);
    const manifest = JSON.parse(await readFile(join(dir, v1, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      version: v1,
      step: 5,
      source_offsets: { 'synthetic/0': 2560 },
      event_time_watermark_ms: 123,
    });
    expect(Object.keys(manifest.files)).toContain('embeddings/C1.arrow');
    const { model } = await loadExport(join(dir, v1));
    const batch = trained.featurizer.fromInstances(sampleInstances(20, trained.schema));
    const a = trained.model.predict(batch),
      b = model.predict(batch);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(model.rowCounts()).toEqual(trained.model.rowCounts());
    model.dispose();
  });

  it("serves predictions over HTTP equal to the model's, shaped like TF Serving", async () => {
    const instances = sampleInstances(3, trained.schema);
    const res = await fetch(`${base}/v1/models/ctr:predict`, { method: 'POST', body: JSON.stringify({ instances }) });
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe(v1);
    const body = (await res.json()) as { predictions: number[] };
    expect(Object.keys(body)).toEqual(['predictions']);
    const want = trained.model.predict(trained.featurizer.fromInstances(instances));
    body.predictions.forEach((p, i) => {
      expect(p).toBeCloseTo(want[i], 6);
    });
    expect(body.predictions.every((p) => p > 0 && p < 1)).toBe(true);
    const status = (await (await fetch(`${base}/v1/models/ctr`)).json()) as {
      model_version_status: { version: string; state: string }[];
    };
    expect(status.model_version_status[0]).toMatchObject({ version: v1, state: 'AVAILABLE' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/lionctr_serve_requests_total\{route="predict",code="200"\} 1/);
  });

  it('while draining for a shutdown, /readyz answers 503 and predictions are still served', async () => {
    let draining = false;
    const app2 = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', isDraining: () => draining });
    expect((await app2.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    draining = true;
    const ready = await app2.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'draining' });
    const pred = await app2.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: JSON.stringify({ instances: sampleInstances(2, trained.schema) }),
    });
    expect(pred.statusCode).toBe(200);
    await app2.close();
  });

  it('while draining, every answer over real HTTP says Connection: close and ends its keep-alive', async () => {
    let draining = false;
    const app2 = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', isDraining: () => draining });
    await app2.listen({ host: '127.0.0.1', port: 0 });
    const port = (app2.server.address() as { port: number }).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ instances: sampleInstances(2, trained.schema) });
    // [status, Connection header, whether the socket was closed after the answer]
    const ask = (method: string, path: string) =>
      new Promise<[number, string | undefined, boolean]>((res, rej) => {
        const r = httpRequest({ host: '127.0.0.1', port, method, path, agent }, (m) => {
          const socket = m.socket;
          m.resume();
          // the server ends a closed connection right after the answer: its end reaches the client within ms
          m.on('end', () => setTimeout(() => res([m.statusCode ?? 0, m.headers.connection, socket.destroyed]), 100));
        });
        r.on('error', rej);
        if (method === 'POST') r.setHeader('content-type', 'application/json');
        r.end(method === 'POST' ? body : undefined);
      });
    try {
      // the predict hot path, a fastify route, /readyz
      const asks: [string, string][] = [
        ['POST', '/v1/models/ctr:predict'],
        ['GET', '/v1/models/ctr'],
        ['GET', '/readyz'],
      ];
      for (const [m, p] of asks) expect(await ask(m, p), `${m} ${p}`).toEqual([200, 'keep-alive', false]);
      draining = true;
      expect(await ask('POST', '/v1/models/ctr:predict')).toEqual([200, 'close', true]);
      expect(await ask('GET', '/v1/models/ctr')).toEqual([200, 'close', true]);
      expect(await ask('GET', '/readyz')).toEqual([503, 'close', true]);
      expect(await ask('POST', '/v1/models/ctr:predict?x=%41')).toEqual([200, 'close', true]); // via fastify
    } finally {
      agent.destroy();
      await app2.close();
    }
  });

  it('after the drain, a request on an open connection gets 503 in the API error shape', async () => {
    const app2 = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
    await app2.listen({ host: '127.0.0.1', port: 0 });
    const port = (app2.server.address() as { port: number }).port;
    const body = JSON.stringify({ instances: sampleInstances(2, trained.schema) });
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('utf8');
    });
    const ended = new Promise((res) => socket.on('close', res));
    const head = `POST /v1/models/ctr:predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n`;
    // the first request's body is held back until the server is closing: its connection stays busy, and the
    // request pipelined after it arrives while the server closes
    socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((res) => setTimeout(res, 100));
    const closing = app2.close();
    await new Promise((res) => setTimeout(res, 100));
    socket.write(`${body.slice(5)}GET /v1/models/ctr HTTP/1.1\r\nhost: x\r\n\r\n`);
    await ended;
    await closing;
    const answers = got.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    const json = JSON.parse(answers[1].slice(answers[1].indexOf('\r\n\r\n') + 4));
    expect(json).toEqual({ error: expect.stringMatching(/shutting down/), code: 'LIONCTR_NOT_READY' });
  });

  it('scores a request larger than one chunk (3000 instances) exactly like one model call', async () => {
    const instances = sampleInstances(3000, trained.schema);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: JSON.stringify({ instances }),
    });
    expect(res.statusCode).toBe(200);
    const want = Array.from(await registry.current()!.model.score(trained.featurizer.fromInstances(instances)));
    expect((res.json() as { predictions: number[] }).predictions).toEqual(want);
  });

  it('answers malformed requests with a 4xx JSON error naming the problem, and keeps serving', async () => {
    const post = (body: string, path = '/v1/models/ctr:predict') =>
      fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    // error strings: TF Serving's (test/integration/tfs-conformance.test.ts quotes their sources)
    const cases: [string, number, RegExp, string, string?][] = [
      ['{"instances": [', 400, /^JSON Parse error: /, 'body'],
      ['{"signature_name": 1}', 400, /'signature_name' key must be a string value/, 'signature_name'],
      [
        '{"instances": [{"C1": "a", "C99": "b"}]}',
        400,
        /key: C99 .*does not have named input: C99$/,
        'instances[0].C99',
      ],
      [
        '{"instances": [{"I3": "lots"}]}',
        400,
        /key: I3 .*"lots" Type: String is not of expected type: float$/,
        'instances[0].I3',
      ],
      ['[1,2]', 400, /^JSON Value: \[1, 2\] Is not object$/, 'body'],
      [
        '{"instances": [{}]}',
        404,
        /^Servable not found for request: Latest\(other\)$/,
        'url',
        '/v1/models/other:predict',
      ],
      [
        '{"instances": [{}]}',
        400,
        /^Malformed request: POST \/v1\/models\/ctr:explain$/,
        'url',
        '/v1/models/ctr:explain',
      ],
    ];
    for (const [body, code, msg, where, path] of cases) {
      const res = await post(body, path);
      expect(res.status, body).toBe(code);
      const j = (await res.json()) as { error: string; where: string };
      expect(j.error, body).toMatch(msg);
      expect(j.where, body).toBe(where);
    }
    const ok = await post(JSON.stringify({ instances: [{}] }));
    expect(ok.status).toBe(200);
  });

  it('hot-swaps to a newer export, and keeps the old one when the new one is corrupt', async () => {
    await tinyTrainedModel(1); // a different process-wide state must not matter
    trained.step.run(trained.featurizer.fromInstances(sampleInstances(64, trained.schema)));
    const v2 = (await writeExport(dir, trained.model, meta(6))).version;
    await registry.check();
    expect(registry.current()?.version).toBe(v2);
    const res = await fetch(`${base}/v1/models/ctr:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [{}] }),
    });
    expect(res.headers.get(VERSION_HEADER)).toBe(v2);

    const v3 = (await writeExport(dir, trained.model, meta(7))).version;
    await writeFile(join(dir, v3, 'embeddings', 'C1.arrow'), 'garbage'); // checksum now wrong
    await registry.check();
    expect(registry.current()?.version).toBe(v2);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});

describe('serving start-up on a bad LATEST', () => {
  it('falls back to the newest version that loads, and says why in /readyz otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-fallback-'));
    try {
      const { model } = await tinyTrainedModel(1);
      const good = (await writeExport(dir, model, meta(1), 5)).version;
      const bad = (await writeExport(dir, model, meta(2), 5)).version;
      await writeFile(join(dir, bad, 'dense', 'weights.bin'), 'x');
      const registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
      await registry.check();
      expect(registry.current()?.version).toBe(good);
      expect(registry.lastError).toMatchObject({
        version: bad,
        message: expect.stringMatching(/checksum mismatch.*weights\.bin/),
      });
      registry.stop();

      // LATEST holds no version name: the newest version on disk that loads is served (issue 17)
      await writeFile(join(dir, 'LATEST'), '../../etc\n');
      const r2 = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
      await r2.check();
      expect(r2.current()?.version).toBe(good);
      expect(r2.lastError?.message).toMatch(/LATEST must hold a version number/);
      r2.stop();

      // and none loads: 503, /readyz says why
      await writeFile(join(dir, good, 'dense', 'weights.bin'), 'x');
      const r3 = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
      await r3.check();
      expect(r3.current()).toBeUndefined();
      expect(r3.lastError?.message).toMatch(/LATEST must hold a version number/);
      const app = createHttpServer({ registry: r3, metrics: createMetrics(), modelName: 'ctr' });
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/LATEST must hold a version number/);
      const get = await app.inject({ method: 'GET', url: '/v1/models/ctr:predict' });
      expect(get.statusCode).toBe(405);
      await app.close();
      model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
