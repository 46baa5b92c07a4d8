/**
 * @module The predict hot path: `POST .../<name>[/versions/<v>|/labels/<l>]:predict` answered on
 * Node's 'request' event, before fastify routes it (fastify's routing, hooks, reply and
 * serialization cost ~10% of the server's CPU at 1 instance per request). The same route code
 * (routes/predict.ts), body checks (json-body.ts bodyText, instance-guard.ts checkKeyCounts),
 * error answers (error-answer.ts), metrics and headers as the fastify route; the answer is written
 * with one writeHead + end of a string (Node sends head and body in one write). Requests it does not
 * take go to fastify untouched (nothing read): any other method or path, a body without a
 * Content-Length or over serve.maxBodyBytes, an empty body, a Content-Encoding or
 * Transfer-Encoding, no Content-Type, or a URL with a `%` escape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorAnswer, logServerError } from './error-answer.ts';
import { checkKeyCounts, KEY_MARGIN, slotCount } from './instance-guard.ts';
import { bodyText } from './json-body.ts';
import type { Scan } from './json-fast.ts';
import type { ApiContext } from './routes/context.ts';
import { predict } from './routes/predict.ts';
import { API_PREFIX, cachedApiPath, type ModelRoute, pathOf, type ServeRoute } from './tfs-paths.ts';

/** What the hot path shares with the fastify server. */
export interface HotPathDeps {
  ctx: ApiContext;
  /** serve.maxBodyBytes: larger bodies go to fastify (its 413). */
  maxBody: number;
  /** Counts a request (lionctr_serve_requests_total) and observes its latency, seconds. */
  count: (route: ServeRoute, code: number) => void;
  time: (route: ServeRoute, seconds: number) => void;
  /** Sockets already answered by the client-error handler (408...): nothing more is written to them. */
  answered: WeakSet<object>;
  /** Headers of every response (e.g. the worker's), besides the version's. */
  headers: Record<string, string>;
  /** The header naming the version a response came from. */
  versionHeader: string;
  logger?: Logger;
}

/** Requests the hot path took since the process started (tests read it). */
let taken = 0;
/** How many requests the hot path took (tests: that real HTTP requests take it). */
export const hotPathRequests = (): number => taken;

/** The route of a request the hot path takes, or undefined (fastify takes it). */
function routeOf(req: IncomingMessage, maxBody: number): ModelRoute | undefined {
  const url = req.url;
  if (req.method !== 'POST' || url === undefined || url.includes('%') || !API_PREFIX.test(url)) return undefined;
  const h = req.headers;
  if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return undefined;
  if (h['content-type'] === undefined) return undefined;
  const len = Number(h['content-length']);
  if (!(len > 0 && len <= maxBody)) return undefined;
  try {
    const route = cachedApiPath('POST', pathOf(url));
    return route.kind === 'predict' ? route : undefined;
  } catch {
    return undefined; // fastify's route answers the fault
  }
}

/**
 * The 'request' listener of the hot path: true when it took the request (it answers it), false
 * when fastify's handler should.
 */
export function predictHotPath(deps: HotPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { ctx, maxBody, count, time, answered, versionHeader, logger } = deps;
  const extra = Object.entries(deps.headers);
  const write = (res: ServerResponse, t0: number, status: number, text: string, version?: string, allow?: string) => {
    count('predict', status);
    time('predict', (performance.now() - t0) / 1000);
    if (answered.has(res.socket as object) || res.headersSent || res.destroyed) return;
    const head: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8', // as fastify sends it
      'content-length': Buffer.byteLength(text),
    };
    for (const [k, v] of extra) head[k] = v;
    if (version !== undefined) head[versionHeader] = version;
    if (allow !== undefined) head.allow = allow;
    res.writeHead(status, head);
    res.end(text);
  };
  // the key-count guard (instance-guard.ts) after the fast scan: a scanned body is one object of one key
  // ("instances") around its instances, so it passes when no instance has more than slots + KEY_MARGIN
  // pairs (countKeys's first pass); any other body is counted as fastify's parser counts it
  const guardBody = (text: string, scan: Scan | undefined) => {
    const slots = slotCount(ctx.registry.current());
    if (scan) {
      let most = 0;
      for (let b = 0; b < scan.n; b++) most = Math.max(most, scan.starts[b + 1] - scan.starts[b]);
      if (most <= slots + KEY_MARGIN) return;
    }
    checkKeyCounts(text, slots);
  };
  const hotCtx: ApiContext = { ...ctx, guardBody };
  const answer = async (req: IncomingMessage, res: ServerResponse, route: ModelRoute, raw: Buffer, t0: number) => {
    let version: string | undefined;
    try {
      const out = await predict(hotCtx, route, bodyText(raw), (v) => {
        version = v;
      });
      write(res, t0, 200, out.text, version);
    } catch (e) {
      const a = errorAnswer(e, maxBody);
      if (answered.has(res.socket as object)) return; // answered and closed already (as fastify's error handler)
      if (a.status >= 500) logServerError(logger, 'predict', req.method, req.url, a, e);
      write(res, t0, a.status, JSON.stringify(a.body), version, a.allow);
    }
  };
  return (req, res) => {
    const route = routeOf(req, maxBody);
    if (!route) return false;
    const t0 = performance.now();
    taken++;
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (c: Buffer) => {
      if (!first) first = c;
      else if (more) more.push(c);
      else more = [first, c];
    });
    req.on('end', () => {
      const raw = more ? Buffer.concat(more) : (first ?? Buffer.alloc(0));
      first = more = undefined;
      void answer(req, res, route, raw, t0);
    });
    return true;
  };
}
