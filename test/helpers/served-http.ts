/**
 * @module A prediction endpoint on loopback for HTTP tests: a ModelRegistry over an exports
 * root (checked once, not polling) behind createHttpServer on a free 127.0.0.1 port, model name
 * `ctr`. The test stops it: `await app.close(); registry.stop()`.
 */
import pino from 'pino';
import { createMetrics, type ServeMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { ModelRegistry, type VersionPolicy } from '../../src/serve/model-registry.ts';

/** The endpoint: its registry, its server and its base URL (`http://127.0.0.1:<port>`). */
export interface ServedHttp {
  registry: ModelRegistry;
  app: ReturnType<typeof createHttpServer>;
  base: string;
}

/**
 * Serves `root` on loopback: the registry loads what LATEST names (and `policy`'s versions), then
 * the server listens.
 * @param opts.metrics the endpoint's metrics (default: a fresh createMetrics()).
 */
export async function serveOnLoopback(
  root: string,
  opts: { policy?: VersionPolicy; metrics?: ServeMetrics } = {},
): Promise<ServedHttp> {
  const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0, opts.policy);
  await registry.check();
  const app = createHttpServer({ registry, metrics: opts.metrics ?? createMetrics(), modelName: 'ctr' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { registry, app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}
