/**
 * Config section `serve`: where the prediction endpoint listens (src/serve/http-server.ts),
 * the model name in its URLs, how often it checks LATEST and how many versions it keeps
 * loaded (src/serve/model-registry.ts), the version labels, what scores the dense tower
 * (src/model/serving-tower.ts), the drain period on SIGTERM, and the status page's history
 * (src/serve/status-page/).
 */
import convict from 'convict';
import { oneOf, parseJsonOrKeep, type ConfigValues } from '../config/formats.ts';

/** A model name or version label as TF Serving's URL regex takes it: `[^/:]+`. */
const URL_NAME = /^[^/:]+$/;

/** Checks a model name: non-empty, no `/` or `:` (it sits in `/v1/models/<name>:predict`). */
function validateModelName(v: unknown): void {
  if (typeof v !== 'string' || !URL_NAME.test(v)) throw new Error('must be a non-empty name without "/" or ":"');
}

/** What serve.workers takes: `auto`, or a whole number >= 0 (a number, or its text from env / --set). */
const WORKERS = /^(auto|0|[1-9]\d*)$/;

/** Checks serve.workers: `auto` or an integer >= 0 (0 means auto). */
function validateWorkers(v: unknown): void {
  const ok =
    typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : typeof v === 'string' && WORKERS.test(v.trim());
  if (!ok) throw new Error(`must be auto (one worker per core) or an integer >= 0 (0: auto), got ${JSON.stringify(v)}`);
}

/**
 * The worker processes `lionctr serve` runs for serve.workers `v` on a machine of `cores`
 * (os.availableParallelism()): `cores` for `auto` or 0, else the number (text from env / --set read as one).
 * @throws Error when `v` is not what validateWorkers takes (the config is validated before this is called).
 */
export function workerCount(v: 'auto' | number | string, cores: number): number {
  validateWorkers(v);
  const n = typeof v === 'number' ? v : v.trim() === 'auto' ? 0 : Number(v);
  return n === 0 ? Math.max(1, cores) : n;
}

/** Checks `{label: version}`: labels without `/` or `:`, versions decimal integers (string or number). */
function validateLabels(v: unknown): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error('must be an object {label: version}, e.g. {"stable": "1700000000000"}');
  for (const [label, version] of Object.entries(v)) {
    if (!URL_NAME.test(label)) throw new Error(`label "${label}" must be non-empty, without "/" or ":"`);
    const ok =
      (typeof version === 'string' && /^\d+$/.test(version)) ||
      (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0);
    if (!ok) throw new Error(`${label}: must be a version number, got ${JSON.stringify(version)}`);
  }
}

convict.addFormat({ name: 'version-labels', validate: validateLabels, coerce: parseJsonOrKeep });

/** Checks the status page's sample interval: a finite number of seconds >= 0.1 (no busy timer). */
function validateInterval(v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0.1) throw new Error('must be a number of seconds >= 0.1');
}

convict.addFormat({ name: 'status-interval', validate: validateInterval, coerce: (v: unknown) => Number(v) });

/** Convict schema of `serve.*`. */
export const serveConfig = {
  host: {
    doc: 'Address the prediction endpoint binds (0.0.0.0: all interfaces, e.g. in a container)',
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
  modelName: {
    doc: 'Model name in /v1/models/<name>',
    format: validateModelName,
    default: 'ctr',
    env: 'LIONCTR_SERVE_MODEL_NAME',
  },
  pollSeconds: { doc: 'Seconds between checks of LATEST for a new export', format: 'nonneg-number', default: 1 },
  keepVersions: {
    doc:
      'Versions kept loaded (TF Serving\'s "latest N" version policy): the one LATEST names and the newest others ' +
      '(labelled versions on top); a version dropped is freed when its last request ends. Memory: about this many ' +
      'copies of the model',
    format: 'positive-int',
    default: 1,
    env: 'LIONCTR_SERVE_KEEP_VERSIONS',
  },
  labels: {
    doc:
      'Version labels for /v1/models/<name>/labels/<label>, {label: version}, e.g. {"stable": "1700000000000", ' +
      '"canary": "1700000060000"}; a labelled version stays loaded while it is on disk',
    format: 'version-labels',
    default: {} as Record<string, string | number>,
    env: 'LIONCTR_SERVE_LABELS',
  },
  deltaMaxDeferSeconds: {
    doc:
      'Seconds a delta export waits for the large (chunked) requests holding the served version to end before it is ' +
      'applied to a copy of the model instead of in place (a copy holds old + new while those requests drain)',
    format: 'nonneg-number',
    default: 1,
    env: 'LIONCTR_SERVE_DELTA_MAX_DEFER_SECONDS',
  },
  tower: {
    doc:
      "What scores the dense tower when serving: onnx (onnxruntime-node on the export's ONNX graph; 3-7x faster " +
      'than tfjs-wasm per request at 16-256 instances, bench/serving-tower.ts), tfjs (the tfjs backend), auto (onnx ' +
      'when onnxruntime loads, else tfjs)',
    format: ['auto', 'onnx', 'tfjs'],
    default: 'auto' as 'auto' | 'onnx' | 'tfjs',
    env: 'LIONCTR_SERVE_TOWER',
  },
  towerThreads: {
    doc: "onnxruntime threads per request (1: the request's own thread; more only help requests of 1000s of instances)",
    format: 'positive-int',
    default: 1,
    env: 'LIONCTR_SERVE_TOWER_THREADS',
  },
  workers: {
    doc:
      '`lionctr serve` only: worker processes sharing the port (node:cluster), each loading the exports itself ' +
      '(memory: this many copies of the served versions); auto (or 0): one per core (os.availableParallelism()). ' +
      '`run` serves from its one process whatever this says (its trainer thread takes a core)',
    format: validateWorkers,
    default: 'auto' as 'auto' | number,
    env: 'LIONCTR_SERVE_WORKERS',
  },
  workerStartFailures: {
    doc:
      '`lionctr serve` with several workers: after this many workers in a row fail to start (exit before ' +
      'listening: the port in use, an export that does not load, ...) the primary stops the others and exits ' +
      "non-zero with the last worker's error instead of forking them again (counted in " +
      'lionctr_serve_worker_failures_total{stage="start"})',
    format: 'positive-int',
    default: 5,
    env: 'LIONCTR_SERVE_WORKER_START_FAILURES',
  },
  drainSeconds: {
    doc:
      'On SIGTERM, seconds during which /readyz answers 503 but predictions are still served, before the server ' +
      'closes (lets a load balancer stop sending first)',
    format: 'nonneg-number',
    default: 2,
    env: 'LIONCTR_SERVE_DRAIN_SECONDS',
  },
  maxBodyBytes: {
    doc: 'Largest request body accepted, bytes (413 above it). 10,000 instances of the 39 Criteo slots are about 6 MB',
    format: 'positive-int',
    default: 8 * 1024 * 1024,
    env: 'LIONCTR_SERVE_MAX_BODY_BYTES',
  },
  requestTimeoutSeconds: {
    doc:
      'Longest time a client may take to send a whole request, headers and body: then it is answered 408 and the ' +
      'connection closed, and what it had sent is freed (a body sent a byte at a time cannot hold the server). ' +
      'Scoring time does not count. 0: no limit (not advised)',
    format: 'nonneg-number',
    default: 30,
    env: 'LIONCTR_SERVE_REQUEST_TIMEOUT_SECONDS',
  },
  headersTimeoutSeconds: {
    doc: 'Longest time a client may take to send the headers of a request (408 after it); at most the request timeout',
    format: 'nonneg-number',
    default: 10,
    env: 'LIONCTR_SERVE_HEADERS_TIMEOUT_SECONDS',
  },
  keepAliveTimeoutSeconds: {
    doc:
      'Seconds an idle keep-alive connection waits for its next request before it is closed (above the idle ' +
      "timeout of a load balancer in front, e.g. AWS ALB's 60 s, so that it never reuses a closed connection)",
    format: 'nonneg-number',
    default: 72,
    env: 'LIONCTR_SERVE_KEEP_ALIVE_TIMEOUT_SECONDS',
  },
  idleTimeoutSeconds: {
    doc:
      'Seconds a connection may send and receive nothing, at any point, before it is destroyed (above ' +
      'keepAliveTimeoutSeconds); 0: no limit',
    format: 'nonneg-number',
    default: 120,
    env: 'LIONCTR_SERVE_IDLE_TIMEOUT_SECONDS',
  },
  unknownSlots: {
    doc:
      "A request key that is not a slot: model (the policy the export records, the trainer's " +
      'schema.unknownSlots; reject for exports older than the record), reject (400 naming the key) or ignore ' +
      '(dropped, counted in lionctr_serve_unknown_slots_total)',
    ...oneOf(['model', 'reject', 'ignore'], 'model'),
  },
  statusHistory: {
    samples: {
      doc:
        "Samples of the status page's charts kept in memory (GET /, /v1/lionctr/status), a ring buffer of 104 " +
        'bytes a sample (720: 74,880 B, one hour at the default interval)',
      format: 'positive-int',
      default: 720,
      env: 'LIONCTR_SERVE_STATUS_HISTORY_SAMPLES',
    },
    intervalSeconds: {
      doc: 'Seconds between two samples of the status page (quality, throughput, freshness read from the metrics)',
      format: 'status-interval',
      default: 5,
      env: 'LIONCTR_SERVE_STATUS_HISTORY_INTERVAL_SECONDS',
    },
  },
};

/** The resolved `serve` section. */
export type ServeSection = ConfigValues<typeof serveConfig>;

/** The limits of serve.* the HTTP server applies (src/serve/http-server.ts). */
export type ServeLimits = Pick<
  ServeSection,
  'maxBodyBytes' | 'requestTimeoutSeconds' | 'headersTimeoutSeconds' | 'keepAliveTimeoutSeconds' | 'idleTimeoutSeconds'
>;

/** The defaults of ServeLimits (what a server created without config applies). */
export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  maxBodyBytes: serveConfig.maxBodyBytes.default,
  requestTimeoutSeconds: serveConfig.requestTimeoutSeconds.default,
  headersTimeoutSeconds: serveConfig.headersTimeoutSeconds.default,
  keepAliveTimeoutSeconds: serveConfig.keepAliveTimeoutSeconds.default,
  idleTimeoutSeconds: serveConfig.idleTimeoutSeconds.default,
};
