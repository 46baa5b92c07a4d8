/**
 * The status page over real HTTP (createHttpServer on loopback, a real export): GET / is the page
 * with a 'self'-only CSP, /status/uplot.min.js is uPlot's own file from node_modules, and
 * GET /v1/lionctr/status answers the served version, whether the process trains, and a history
 * capped at serve.statusHistory.samples whose prediction rate counts the predictions made; the
 * sampler stops when its server closes. TF Serving's paths are unchanged beside it.
 */
import Fastify from 'fastify';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, createServeMetrics, type ServeMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { SERIES } from '../../src/serve/status-page/history.ts';
import { registerStatusPage } from '../../src/serve/status-page/routes.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Body = {
  model_name: string;
  served: { version: string; age_seconds: number; event_lag_seconds: number; metrics_at_export: object } | null;
  trainer: boolean;
  training: string | null;
  latest: Record<string, number | null>;
  history: { interval_seconds: number; capacity: number; bytes: number; series: Record<string, (number | null)[]> };
};

describe('status page over HTTP', () => {
  let dir: string;
  let registry: ModelRegistry;
  let version: string;
  let predictBody: string;
  const apps: ReturnType<typeof createHttpServer>[] = [];

  async function serve(metrics: ServeMetrics, samples: number, trainingStatus?: () => string) {
    const app = createHttpServer({
      registry,
      metrics,
      modelName: 'ctr',
      trainingStatus,
      statusHistory: { samples, intervalSeconds: 0.05 },
    });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
  }
  const status = async (base: string) => (await (await fetch(`${base}/v1/lionctr/status`)).json()) as Body;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-status-'));
    const trained = await tinyTrainedModel(3);
    const meta = {
      step: 3,
      examples: 1536,
      sourceOffsets: {},
      watermarkMs: Date.now() - 60_000,
      metrics: { auc: 0.7 },
    };
    version = (await writeExport(dir, trained.model, meta)).version;
    registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0);
    await registry.check();
    predictBody = JSON.stringify({ instances: sampleInstances(2, trained.schema) });
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page, its script and uPlot from this server only', async () => {
    const { base } = await serve(createServeMetrics(), 10);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/status/uplot.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//); // no CDN
    const uplot = await fetch(`${base}/status/uplot.min.js`);
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const file = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
    expect(await uplot.text()).toBe(await readFile(file, 'utf8'));
    for (const p of ['/status/page.js', '/status/page.css', '/status/uplot.min.css'])
      expect((await fetch(`${base}${p}`)).status, p).toBe(200);
    // TF Serving's paths are untouched by the page's
    expect((await fetch(`${base}/v1/models/ctr`)).status).toBe(200);
    expect((await fetch(`${base}/status/nope.js`)).status).toBe(404);
  });

  it('`serve`: the served version and a history capped at statusHistory.samples, predictions counted', async () => {
    const { app, base } = await serve(createServeMetrics(), 4);
    // app.close() here, after which afterAll's close is a no-op
    const t0 = Date.now();
    while (Date.now() - t0 < 600) {
      const r = await fetch(`${base}/v1/models/ctr:predict`, { method: 'POST', body: predictBody });
      expect(r.status).toBe(200);
      await sleep(10);
    }
    const b = await status(base);
    expect(b.model_name).toBe('ctr');
    expect(b.served?.version).toBe(version);
    expect(b.served?.age_seconds).toBeGreaterThan(0);
    expect(b.served?.event_lag_seconds).toBeGreaterThan(60);
    expect(b.served?.metrics_at_export).toEqual({ auc: 0.7 });
    expect(b.trainer).toBe(false);
    expect(b.training).toBeNull();
    expect(b.history).toMatchObject({ interval_seconds: 0.05, capacity: 4, bytes: 4 * 8 * SERIES.length });
    expect(Object.keys(b.history.series)).toEqual([...SERIES]);
    for (const n of SERIES) expect(b.history.series[n], n).toHaveLength(4);
    const t = b.history.series.t as number[];
    expect(t).toEqual([...t].sort((x, y) => x - y));
    expect(Math.max(...(b.history.series.predict_requests_per_second as number[]))).toBeGreaterThan(0);
    expect(b.history.series.auc_window).toEqual([null, null, null, null]);
    expect(b.latest.model_age_seconds).toBeGreaterThan(0);
    await app.close();
  });

  it('the sampler stops when its server closes', async () => {
    const app = Fastify();
    const { history } = registerStatusPage(app, {
      metrics: createServeMetrics().registry,
      models: registry,
      modelName: 'ctr',
      history: { samples: 1000, intervalSeconds: 0.02 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await sleep(100);
    expect(history.length).toBeGreaterThanOrEqual(2);
    await app.close();
    await sleep(30);
    const n = history.length;
    await sleep(150);
    expect(history.length).toBe(n);
  });

  it('`run`: trainer figures and its state', async () => {
    const m = createMetrics();
    m.quality.scoped.auc.set({ scope: 'window' }, 0.74);
    m.trainExamples.inc(100);
    const { base } = await serve(m, 50, () => 'up');
    await sleep(200);
    const b = await status(base);
    expect(b.trainer).toBe(true);
    expect(b.training).toBe('up');
    expect(b.latest.auc_window).toBe(0.74);
    expect(b.history.series.t.length).toBeGreaterThanOrEqual(2);
    expect(b.history.series.t.length).toBeLessThanOrEqual(50);
  });
});
