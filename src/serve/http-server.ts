import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ERRORS } from '../errors.ts';
import type { ServeMetrics } from '../metrics/catalogue.ts';
import type { ModelRegistry } from './model-registry.ts';
import { clientErrorHandler } from './client-errors.ts';
import { DEFAULT_SERVE_LIMITS, type ServeLimits } from './config.ts';
import { checkKeyCounts, slotCount } from './instance-guard.ts';
import { gunzipBody, isGzipped } from './gzip-body.ts';
import { bodyText } from './json-body.ts';
import { classifyOrRegress } from './routes/classify.ts';
import type { ApiContext } from './routes/context.ts';
import type { UnknownSlotPolicy } from '../features/unknown-slots.ts';
import { extras } from './routes/extras.ts';
import { metadata } from './routes/metadata.ts';
import { predict } from './routes/predict.ts';
import { status } from './routes/status.ts';
import { registerStatusPage, type StatusHistoryOptions } from './status-page/routes.ts';
import type { SamplerOptions } from './status-page/sampler.ts';
import { JsonText } from './json-text.ts';
import { errorAnswer, logServerError } from './error-answer.ts';
import { predictHotPath } from './predict-hot-path.ts';
import { nextTurn } from './scoring.ts';
import { API_PREFIX, cachedApiPath, pathOf, routeLabel, type ServeRoute } from './tfs-paths.ts';
import { answerClosing } from './closing-answer.ts';

/** Largest request body accepted by default, bytes (serve.maxBodyBytes). */
export const MAX_BODY_BYTES = DEFAULT_SERVE_LIMITS.maxBodyBytes;

/** Most ms between Node's checks of the request and headers timeouts (Node's default: 30 s late). */
const TIMEOUT_CHECK_MS = 1000;

/** The header naming the model version a response came from (TF Serving's REST bodies have no such field). */
export const VERSION_HEADER = 'x-lionctr-model-version';

/** The request field holding its start, performance.now() ms (0: not set). */
const STARTED = 'lionctrStartedMs';
type Started = FastifyRequest & { [STARTED]: number };

/** Options of createHttpServer. */
export interface HttpServerOptions {
  registry: ModelRegistry;
  metrics: ServeMetrics;
  /** serve.modelName: the name in /v1/models/<name>. */
  modelName: string;
  /** True while shutting down: /readyz answers 503. */
  isDraining?: () => boolean;
  /** The process logger: every 5xx is logged with its message (default: none). */
  logger?: Logger;
  /** Awaited between scoring chunks of a large request (default: one turn of the event loop). */
  yieldTurn?: () => Promise<void>;
  /** What /metrics answers instead of `metrics.registry` (Prometheus text; `serve --workers`: all workers'). */
  scrape?: () => Promise<string>;
  /** `serve --workers N`: all workers' metrics combined, read by the status page's sampler. */
  clusterMetrics?: SamplerOptions['clusterMetrics'];
  /** serve.maxBodyBytes and the timeouts (default: the config's defaults, DEFAULT_SERVE_LIMITS). */
  limits?: Partial<ServeLimits>;
  /** `run`: how its trainer stands (`up`, `down: <error>; ...`), /readyz's `training` field; readiness unchanged. */
  trainingStatus?: () => string;
  /** serve.unknownSlots when it overrides each model's own policy (its manifest's); default: the model's. */
  unknownSlots?: UnknownSlotPolicy;
  /** serve.statusHistory: the status page's samples kept and their interval (default: the config's). */
  statusHistory?: StatusHistoryOptions;
  /** Headers of every response (`serve --workers N`: the worker's id). */
  responseHeaders?: Record<string, string>;
}

/**
 * The prediction endpoint: TF Serving's REST API (tensorflow/serving g3doc/api_rest.md, see
 * src/serve/routes/*.ts and DESIGN.md "Exports and serving"), lionctr's extras at
 * GET /v1/lionctr/models/<name>, and GET /healthz (process up), /readyz (a model is loaded and
 * not draining), /metrics (Prometheus text); the status page at GET / with its JSON at
 * GET /v1/lionctr/status (src/serve/status-page/; its sampler stops when the server closes).
 *
 * Every path under /v1/ is parsed as TF Serving's handler parses it (src/serve/tfs-paths.ts;
 * case-insensitive). Errors answer TF Serving's body {"error": <its message for the fault>}
 * with lionctr's "code" and "where" beside it; the status is the code's (src/errors.ts). Bad
 * requests never change state. Responses scored or described by a version name it in the
 * x-lionctr-model-version header. Bodies are read whatever their content type (curl -d sends
 * form encoding); a `Content-Encoding: gzip` body is inflated, at most serve.maxBodyBytes of it
 * (413 past that), as TF Serving's server inflates one. Every 5xx is logged. A client that does
 * not send its request in time gets 408 and its connection is closed (`limits`,
 * src/serve/client-errors.ts): a slow body cannot hold a connection and its memory. POST ...:predict
 * is answered on Node's 'request' event before fastify routes it (src/serve/predict-hot-path.ts: the
 * same route, checks, answers, metrics and headers); every other request goes through fastify.
 */
export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { registry, metrics, modelName, logger } = opts;
  const yieldTurn = opts.yieldTurn ?? nextTurn;
  const ctx: ApiContext = { registry, metrics, modelName, yieldTurn, unknownSlots: opts.unknownSlots };
  const labelOf = (url: string): ServeRoute => {
    const path = pathOf(url);
    return API_PREFIX.test(path) ? routeLabel(path) : 'unknown';
  };
  const limits = { ...DEFAULT_SERVE_LIMITS, ...opts.limits };
  const maxBody = limits.maxBodyBytes;
  const ms = (s: number) => Math.round(1000 * s);
  const requestTimeout = ms(limits.requestTimeoutSeconds);
  // Node requires headersTimeout <= requestTimeout when both are set
  const headers = ms(limits.headersTimeoutSeconds);
  const headersTimeout = requestTimeout > 0 ? Math.min(headers, requestTimeout) : headers;
  // connections answered by clientErrorHandler (408, ...): their request, if read, then fails uncounted
  const answered = new WeakSet<object>();
  const app = Fastify({
    bodyLimit: maxBody,
    requestTimeout,
    keepAliveTimeout: ms(limits.keepAliveTimeoutSeconds),
    connectionTimeout: ms(limits.idleTimeoutSeconds),
    http: {
      // an HTTP/1.1 request without Host is answered as any other (TF Serving's server does; Node's default is a
      // bare 400 without a body)
      requireHostHeader: false,
      requestTimeout,
      headersTimeout,
      // how often Node checks those: a slow client is answered at most this late
      connectionsCheckingInterval: Math.max(50, Math.min(TIMEOUT_CHECK_MS, (requestTimeout || headers || 4000) / 4)),
    },
    clientErrorHandler: clientErrorHandler(
      (code, socket) => {
        answered.add(socket);
        count('unknown', code);
      },
      limits,
      logger,
    ),
    logger: false,
    // errors fastify raises before routing (bad URL encoding, ...) in the same JSON shape
    frameworkErrors: (err, _req, reply) => {
      const status = ERRORS.LIONCTR_BAD_REQUEST.status;
      metrics.serveRequests.inc({ route: 'unknown', code: String(status) });
      const raw = reply as unknown as { code(c: number): { header(k: string, v: string): { send(b: string): void } } };
      // clients see LIONCTR_* codes only (fastify's FST_ERR_BAD_URL ... is named by the catalogue's)
      const body = { error: err.message, code: 'LIONCTR_BAD_REQUEST', where: 'url' };
      raw.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
    },
  });
  app.removeAllContentTypeParsers();
  // the body as text: the API parses it (TF Serving's order of checks and messages, src/serve/json-body.ts)
  // keys counted before parsing: a body of many distinct keys stalls JSON.parse (src/serve/instance-guard.ts)
  // a gzip body (Content-Encoding) is inflated first, up to maxBody bytes (src/serve/gzip-body.ts)
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const read = (raw: Buffer) => {
      try {
        done(null, checkKeyCounts(bodyText(raw), slotCount(registry.current())));
      } catch (e) {
        done(e as Error, undefined);
      }
    };
    if (!isGzipped(req.headers['content-encoding'])) return read(body as Buffer);
    gunzipBody(body as Buffer, maxBody).then(read, (e: Error) => done(e, undefined));
  });
  // the request's start (performance.now() ms) on the request itself: a WeakMap entry per request cost more
  app.decorateRequest(STARTED, 0);
  // a callback hook: an async one costs a promise and a microtask turn per request
  const extraHeaders = Object.entries(opts.responseHeaders ?? {});
  app.addHook('onRequest', (req, reply, done) => {
    (req as Started)[STARTED] = performance.now();
    for (const [k, v] of extraHeaders) reply.header(k, v);
    done();
  });

  // the labelled children, looked up once per (route, code): prom-client hashes the label object per call
  const counted = new Map<string, { inc(): void }>();
  const timed = new Map<string, { observe(v: number): void }>();
  const count = (route: ServeRoute, code: number) => {
    const key = `${route} ${code}`;
    let c = counted.get(key);
    if (!c) {
      c = metrics.serveRequests.labels({ route, code: String(code) });
      counted.set(key, c);
    }
    c.inc();
  };
  const time = (route: ServeRoute, seconds: number) => {
    let t = timed.get(route);
    if (!t) {
      t = metrics.serveLatency.labels({ route });
      timed.set(route, t);
    }
    t.observe(seconds);
  };
  const send = (req: FastifyRequest, reply: FastifyReply, route: ServeRoute, code: number, body: unknown) => {
    count(route, code);
    const t0 = (req as Started)[STARTED];
    time(route, t0 > 0 ? (performance.now() - t0) / 1000 : 0);
    // a JSON text is sent as it is (a string with its content type is not serialized again)
    return reply
      .code(code)
      .header('content-type', 'application/json')
      .send(body instanceof JsonText ? body.text : body);
  };

  // every error a route, hook or parser raises: status from the catalogue (errors.ts)
  app.setErrorHandler((err, req, reply) => {
    const a = errorAnswer(err, maxBody);
    const route = labelOf(req.url);
    if (answered.has(req.raw.socket)) return reply.code(a.status).send(); // answered and closed already
    if (a.allow) reply.header('allow', a.allow);
    if (a.status >= 500) logServerError(logger, route, req.method, req.url, a, err);
    return send(req, reply, route, a.status, a.body);
  });
  // POST ...:predict answered before fastify's routing (src/serve/predict-hot-path.ts); others go to fastify
  const hot = predictHotPath({
    ctx,
    maxBody,
    count,
    time,
    answered,
    headers: opts.responseHeaders ?? {},
    versionHeader: VERSION_HEADER,
    logger,
  });
  const [viaFastify] = app.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  app.server.removeAllListeners('request');
  // closing (after the drain period): every request gets 503 and Connection: close, in the API's error shape
  let closing = false;
  const refuseClosing = (req: IncomingMessage, res: ServerResponse) => {
    count(labelOf(req.url ?? '/'), 503);
    answerClosing(res, opts.responseHeaders);
  };
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const isDraining = opts.isDraining;
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // draining for a shutdown: every answer closes its connection (Node then ends it after the response), so a
    // keep-alive client opens a new one, which its load balancer sends to another backend (/readyz is 503 here)
    if (isDraining?.()) res.setHeader('connection', 'close');
    if (closing) refuseClosing(req, res);
    else if (!hot(req, res)) viaFastify(req, res);
  });
  const noRoute = (req: FastifyRequest, reply: FastifyReply) => {
    const body = { error: `no route ${req.method} ${req.url}`, code: 'LIONCTR_NOT_FOUND', where: 'url' };
    return send(req, reply, 'unknown', ERRORS.LIONCTR_NOT_FOUND.status, body);
  };
  app.setNotFoundHandler(noRoute);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    // shutting down: tell load balancers to stop sending while requests still get answers
    if (opts.isDraining?.())
      return reply
        .code(503)
        .send({ status: 'draining', error: 'shutting down; requests are still answered until the drain period ends' });
    const m = registry.current();
    const err = registry.lastError;
    const training = opts.trainingStatus ? { training: opts.trainingStatus() } : {};
    if (m)
      return {
        status: 'ready',
        model_version: m.version,
        ...(err && Number(err.version) > Number(m.version) ? { newer_version_failed: err } : {}),
        ...training,
      };
    return reply.code(503).send({
      status: 'not ready',
      error: err ? `no model loaded: ${err.version}: ${err.message}` : 'no export loaded yet (waiting for LATEST)',
      ...training,
    });
  });
  app.get('/metrics', async (_req, reply) => {
    const m = registry.current();
    if (m) metrics.servedAge.set((Date.now() - Date.parse(m.manifest.created_at)) / 1000);
    const text = await (opts.scrape ?? (() => metrics.registry.metrics()))();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  registerStatusPage(app, {
    metrics: metrics.registry,
    models: registry,
    modelName,
    history: opts.statusHistory,
    training: opts.trainingStatus,
    clusterMetrics: opts.clusterMetrics,
    onSampleError: (e) => logger?.warn({ err: e }, `status page sample failed: ${(e as Error).message}`),
  });

  // TF Serving's REST handler takes every path under /v1/ (http_server.cc RestApiRequestDispatcher)
  app.all('/*', async (req, reply) => {
    const path = pathOf(req.url);
    if (!API_PREFIX.test(path)) return noRoute(req, reply);
    const route = cachedApiPath(req.method, path);
    const setVersion = (v: string) => reply.header(VERSION_HEADER, v);
    const body = req.body as string | undefined;
    let out: unknown;
    if (route.kind === 'predict') out = await predict(ctx, route, body, setVersion);
    else if (route.kind === 'classify' || route.kind === 'regress')
      out = await classifyOrRegress(ctx, route.kind, route, body, setVersion);
    else if (route.kind === 'status') out = status(ctx, route);
    else if (route.kind === 'metadata') out = metadata(ctx, route, setVersion);
    else out = extras(ctx, route.name);
    return send(req, reply, route.kind, 200, out);
  });
  return app;
}
