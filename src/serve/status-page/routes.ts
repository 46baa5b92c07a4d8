/**
 * @module The status page's routes on the prediction endpoint: GET / (the page), GET /status/*
 * (its script and style, and uPlot's, read from this folder and from node_modules/uplot once at
 * start-up: no CDN, the page works offline) and GET /v1/lionctr/status (its JSON,
 * status-body.ts); and the sampler that fills the history, stopped when the server closes.
 */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type client from 'prom-client';
import { serveConfig } from '../config.ts';
import type { ModelRegistry } from '../model-registry.ts';
import { StatusHistory } from './history.ts';
import { type SamplerOptions, StatusSampler } from './sampler.ts';
import { statusBody } from './status-body.ts';

/** The path of the status JSON (beside lionctr's extras, /v1/lionctr/models/<name>). */
export const STATUS_JSON_PATH = '/v1/lionctr/status';

/** The history's size and cadence (serve.statusHistory). */
export interface StatusHistoryOptions {
  /** Samples kept (>= 1). */
  samples: number;
  /** Seconds between samples (> 0). */
  intervalSeconds: number;
}

/** Defaults of serve.statusHistory (720 samples 5 s apart: one hour, 74,880 B). */
export const DEFAULT_STATUS_HISTORY: StatusHistoryOptions = {
  samples: serveConfig.statusHistory.samples.default,
  intervalSeconds: serveConfig.statusHistory.intervalSeconds.default,
};

/** Options of registerStatusPage. */
export interface StatusPageOptions {
  metrics: client.Registry;
  models: ModelRegistry;
  modelName: string;
  history?: StatusHistoryOptions;
  /** `run`'s trainer state. */
  training?: () => string;
  /** Told of a sample that failed. */
  onSampleError?: (e: unknown) => void;
  /** `serve --workers N`: all workers' metrics combined (SamplerOptions.clusterMetrics). */
  clusterMetrics?: SamplerOptions['clusterMetrics'];
}

/** A static file: its bytes and content type. */
type Asset = { body: Buffer; type: string };

let assets: Map<string, Asset> | undefined;

/** The page's files by URL path, read on first use and kept. @throws Error naming a missing file. */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  const here = (f: string) => new URL(f, import.meta.url);
  const uplot = (f: string) => createRequire(import.meta.url).resolve(`uplot/dist/${f}`);
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  assets = new Map<string, Asset>([
    ['/', { body: readFileSync(here('index.html')), type: 'text/html; charset=utf-8' }],
    ['/status/page.js', { body: readFileSync(here('page.js')), type: js }],
    ['/status/page.css', { body: readFileSync(here('page.css')), type: css }],
    ['/status/uplot.min.js', { body: readFileSync(uplot('uPlot.iife.min.js')), type: js }],
    ['/status/uplot.min.css', { body: readFileSync(uplot('uPlot.min.css')), type: css }],
  ]);
  return assets;
}

/**
 * The page may load only what this server serves (`'self'`): a page that tried a CDN would fail
 * here as it would on a host without internet.
 */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";

/**
 * Adds the status page's routes to `app` and starts its sampler (stopped by app.close()).
 * @returns the sampler and its history (tests read them).
 */
export function registerStatusPage(app: FastifyInstance, o: StatusPageOptions) {
  const { samples, intervalSeconds } = o.history ?? DEFAULT_STATUS_HISTORY;
  const history = new StatusHistory(samples);
  const sampler = new StatusSampler({
    metrics: o.metrics,
    models: o.models,
    history,
    intervalSeconds,
    onError: o.onSampleError,
    clusterMetrics: o.clusterMetrics,
  });
  for (const [path, a] of loadAssets())
    app.get(path, async (_req, reply) =>
      reply
        .header('content-type', a.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .send(a.body),
    );
  app.get(STATUS_JSON_PATH, async (_req, reply) => {
    const body = statusBody({
      modelName: o.modelName,
      models: o.models,
      history,
      intervalSeconds,
      hasTrainer: sampler.hasTrainer,
      training: o.training,
    });
    return reply.header('cache-control', 'no-store').send(body);
  });
  sampler.start();
  app.addHook('onClose', async () => sampler.stop());
  return { sampler, history };
}
