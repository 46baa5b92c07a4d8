/**
 * Config section `serve`: where the prediction endpoint listens (src/serve/http-server.ts),
 * the model name in its URLs, how often it checks LATEST (src/serve/model-registry.ts), and
 * the drain period on SIGTERM.
 */
import type { ConfigValues } from '../config/formats.ts';

/** Convict schema of `serve.*`. */
export const serveConfig = {
  host: {
    doc: 'Address the prediction endpoint binds',
    format: String,
    default: '127.0.0.1',
    env: 'LIONCTR_SERVE_HOST',
  },
  port: {
    doc: 'Port of the prediction endpoint and /metrics',
    format: 'port',
    default: 8080,
    env: 'LIONCTR_SERVE_PORT',
  },
  modelName: { doc: 'Model name in /v1/models/<name>', format: String, default: 'ctr' },
  pollSeconds: { doc: 'Seconds between checks of LATEST for a new export', format: 'nonneg-number', default: 1 },
  drainSeconds: {
    doc:
      'On SIGTERM, seconds during which /readyz answers 503 but predictions are still served, before the server ' +
      'closes (lets a load balancer stop sending first)',
    format: 'nonneg-number',
    default: 2,
    env: 'LIONCTR_SERVE_DRAIN_SECONDS',
  },
};

/** The resolved `serve` section. */
export type ServeSection = ConfigValues<typeof serveConfig>;
