import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ERRORS, LionctrError, httpStatusOf } from '../errors.ts';
import { sliceBatch } from '../features/feature-batch.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import type { ModelRegistry } from './model-registry.ts';

/** Instances scored per turn of the event loop. */
const PREDICT_CHUNK = 1024;

/** Largest request body accepted, bytes. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Route label of the request metrics, by fastify route url. */
const ROUTES: Record<string, string> = { '/v1/models/*': 'predict', '/v1/models/:name': 'status' };

/**
 * The prediction endpoint, shaped like TF Serving's REST API (DESIGN.md):
 *
 *   POST /v1/models/<name>:predict  {"instances": [{slot: value}, ...]}
 *                                   -> {"predictions": [p, ...], "model_version": "..."}
 *   GET  /v1/models/<name>          model status (TF Serving's model_version_status shape)
 *   GET  /healthz (process up), /readyz (a model is loaded and not draining), /metrics (Prometheus text)
 *
 * Bad requests get a 4xx JSON body {"error", "code", "where"}; they never change state. The
 * status of an error is its code's in src/errors.ts (httpStatusOf).
 * Bodies are parsed as JSON whatever their content type (curl -d sends form encoding).
 */
export function createHttpServer(opts: {
  registry: ModelRegistry;
  metrics: Metrics;
  modelName: string;
  isDraining?: () => boolean;
}): FastifyInstance {
  const { registry, metrics, modelName } = opts;
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    logger: false,
    // errors fastify raises before routing (bad URL encoding, ...) in the same JSON shape
    frameworkErrors: (err, _req, reply) => {
      const status = ERRORS.LIONCTR_BAD_REQUEST.status;
      metrics.serveRequests.inc({ route: 'unknown', code: String(status) });
      const raw = reply as unknown as { code(c: number): { header(k: string, v: string): { send(b: string): void } } };
      const body = { error: err.message, code: (err as { code?: string }).code ?? 'LIONCTR_BAD_REQUEST', where: 'url' };
      raw.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(
        new LionctrError('LIONCTR_BAD_REQUEST', `request body is not valid JSON: ${(e as Error).message}`, {
          where: 'body',
        }),
        undefined,
      );
    }
  });

  const send = (reply: FastifyReply, route: string, code: number, body: unknown, t0: number) => {
    metrics.serveRequests.inc({ route, code: String(code) });
    metrics.serveLatency.observe({ route }, (performance.now() - t0) / 1000);
    return reply.code(code).header('content-type', 'application/json').send(body);
  };

  // every error a route, hook or parser raises: status from the catalogue (errors.ts)
  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string; where?: string };
    const code = httpStatusOf(e);
    const route = ROUTES[req.routeOptions?.url ?? ''] ?? 'unknown';
    const where = e.where ?? (code === 413 || e.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined);
    const message = code === 413 ? `${e.message} (limit ${MAX_BODY_BYTES} bytes)` : e.message;
    return send(
      reply,
      route,
      code,
      { error: message, code: e.code ?? 'LIONCTR_INTERNAL', ...(where ? { where } : {}) },
      performance.now(),
    );
  });
  app.setNotFoundHandler((req, reply) => {
    const body = { error: `no route ${req.method} ${req.url}`, code: 'LIONCTR_NOT_FOUND', where: 'url' };
    return send(reply, 'unknown', ERRORS.LIONCTR_NOT_FOUND.status, body, performance.now());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    // shutting down: tell load balancers to stop sending while requests still get answers
    if (opts.isDraining?.())
      return reply
        .code(503)
        .send({ status: 'draining', error: 'shutting down; requests are still answered until the drain period ends' });
    const m = registry.current();
    const err = registry.lastError;
    if (m)
      return {
        status: 'ready',
        model_version: m.version,
        ...(err && Number(err.version) > Number(m.version) ? { newer_version_failed: err } : {}),
      };
    return reply.code(503).send({
      status: 'not ready',
      error: err ? `no model loaded: ${err.version}: ${err.message}` : 'no export loaded yet (waiting for LATEST)',
    });
  });
  app.get('/metrics', async (_req, reply) => {
    const m = registry.current();
    if (m) metrics.servedAge.set((Date.now() - Date.parse(m.manifest.created_at)) / 1000);
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/v1/models/:name', async (req, reply) => {
    const t0 = performance.now();
    const { name } = req.params as { name: string };
    if (name.includes(':'))
      throw new LionctrError(
        'LIONCTR_METHOD_NOT_ALLOWED',
        `${name.slice(name.lastIndexOf(':') + 1)} needs POST, got GET`,
        { where: 'method' },
      );
    if (name !== modelName)
      throw new LionctrError('LIONCTR_NOT_FOUND', `unknown model "${name}" (this server serves "${modelName}")`, {
        where: 'url',
      });
    const m = registry.current();
    return send(
      reply,
      'status',
      200,
      {
        model_version_status: m
          ? [
              {
                version: m.version,
                state: 'AVAILABLE',
                status: { error_code: 'OK', error_message: '' },
                step: m.manifest.step,
                created_at: m.manifest.created_at,
                metrics: m.manifest.metrics,
              },
            ]
          : [
              {
                version: '',
                state: 'LOADING',
                status: { error_code: 'UNAVAILABLE', error_message: 'no export loaded yet' },
              },
            ],
      },
      t0,
    );
  });

  app.post('/v1/models/*', async (req, reply) => {
    const t0 = performance.now();
    const spec = (req.params as { '*': string })['*'];
    const colon = spec.lastIndexOf(':');
    const name = colon >= 0 ? spec.slice(0, colon) : spec,
      verb = colon >= 0 ? spec.slice(colon + 1) : '';
    if (verb !== 'predict')
      throw new LionctrError(
        'LIONCTR_NOT_FOUND',
        `unknown method "${verb}"; use POST /v1/models/${modelName}:predict`,
        { where: 'url' },
      );
    if (name !== modelName)
      throw new LionctrError('LIONCTR_NOT_FOUND', `unknown model "${name}" (this server serves "${modelName}")`, {
        where: 'url',
      });
    const body = req.body as { instances?: unknown } | undefined;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new LionctrError('LIONCTR_BAD_REQUEST', 'body must be a JSON object {"instances": [...]}', {
        where: 'body',
      });
    }
    if (!('instances' in body))
      throw new LionctrError('LIONCTR_BAD_REQUEST', 'body has no "instances" key', { where: 'body' });
    const m = registry.current();
    if (!m) throw new LionctrError('LIONCTR_NOT_READY', 'no model loaded yet');
    const batch = m.featurizer.fromInstances(body.instances);
    // a large request is scored in chunks with a turn of the event loop between them, so
    // that /readyz, /metrics and small requests are answered meanwhile
    const predictions = new Array<number>(batch.size);
    for (let s = 0; s < batch.size; s += PREDICT_CHUNK) {
      if (s > 0) await new Promise<void>((r) => setImmediate(r));
      const p = m.model.predict(sliceBatch(batch, s, Math.min(batch.size, s + PREDICT_CHUNK)));
      for (let i = 0; i < p.length; i++) predictions[s + i] = p[i];
    }
    // JSON has no NaN: a non-finite score would go out as null; it is a fault of the model, said so
    const bad = predictions.findIndex((p) => !Number.isFinite(p));
    if (bad >= 0) {
      const msg = `model version ${m.version} gave a non-finite score (${predictions[bad]}) for instances[${bad}]`;
      throw new LionctrError('LIONCTR_INTERNAL', msg, { where: `instances[${bad}]` });
    }
    metrics.serveInstances.observe(batch.size);
    return send(reply, 'predict', 200, { predictions, model_version: m.version }, t0);
  });
  return app;
}
