import convict from 'convict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LionctrError } from '../errors.ts';
import { criteoSlots } from '../features/schema.ts';

const lion = (name: string, lr: number, weightDecay: number) => ({
  lr: { doc: `${name} Lion learning rate`, format: 'nonneg-number', default: lr, env: `LIONCTR_OPTIM_${name.toUpperCase()}_LR` },
  beta1: { doc: `${name} Lion beta1 (interpolation for the sign)`, format: 'unit-interval', default: 0.9 },
  beta2: { doc: `${name} Lion beta2 (momentum decay)`, format: 'unit-interval', default: 0.99 },
  weightDecay: { doc: `${name} decoupled weight decay (theta -= lr*wd*theta)`, format: 'nonneg-number', default: weightDecay },
});

convict.addFormat({
  name: 'nonneg-number',
  validate: (v: unknown) => { if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error('must be a finite number >= 0'); },
  coerce: (v: unknown) => Number(v),
});
convict.addFormat({
  name: 'unit-interval',
  validate: (v: unknown) => { if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error('must be a number in [0, 1)'); },
  coerce: (v: unknown) => Number(v),
});
convict.addFormat({
  name: 'positive-int',
  validate: (v: unknown) => { if (!Number.isInteger(v) || (v as number) < 1) throw new Error('must be an integer >= 1'); },
  coerce: (v: unknown) => Number(v),
});
convict.addFormat({
  name: 'int-list',
  validate: (v: unknown) => { if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error('must be a list of integers >= 1, e.g. [256,128]'); },
  coerce: parseJsonOrKeep,
});

convict.addFormat({
  name: 'slot-dims',
  validate: (v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be an object {slot: D}');
    for (const [slot, d] of Object.entries(v as Record<string, unknown>)) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1024) throw new Error(`${slot}: must be an integer in 1..1024, got ${JSON.stringify(d)}`);
    }
  },
  coerce: parseJsonOrKeep,
});
convict.addFormat({
  name: 'string-list',
  validate: (v: unknown) => { if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) throw new Error('must be a list of non-empty strings: a JSON array or a comma-separated list, e.g. host1:9092,host2:9092'); },
  // a JSON array, or a comma-separated list (env vars: LIONCTR_KAFKA_BROKERS=h1:9092,h2:9092)
  coerce: (v: unknown) => (typeof v === 'string' ? (v.trim().startsWith('[') ? parseJsonOrKeep(v) : v.split(',').map((x) => x.trim()).filter(Boolean)) : v),
});

convict.addFormat({
  name: 'table-overrides',
  validate: (v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be an object {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}');
    for (const [slot, o] of Object.entries(v as Record<string, unknown>)) {
      if (o === null || typeof o !== 'object') throw new Error(`${slot}: must be an object`);
      for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
        if (k === 'mode') { if (!['lazy', 'decayed', 'exact'].includes(x as string)) throw new Error(`${slot}.mode must be lazy, decayed or exact`); }
        else if (['lr', 'weightDecay'].includes(k)) { if (typeof x !== 'number' || !(x >= 0)) throw new Error(`${slot}.${k} must be a number >= 0`); }
        else if (['beta1', 'beta2'].includes(k)) { if (typeof x !== 'number' || !(x >= 0 && x < 1)) throw new Error(`${slot}.${k} must be in [0, 1)`); }
        else throw new Error(`${slot}.${k} is not a setting (lr, beta1, beta2, weightDecay, mode)`);
      }
    }
  },
  coerce: parseJsonOrKeep,
});

/** A --set / env string parsed as JSON when it is JSON, else kept, so that validate names the key. */
function parseJsonOrKeep(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

const slots = criteoSlots();

/** Moves the object values of `obj` that sit at schema leaves (keys with a default) into `out` as [dotted key, value]. */
function takeObjectLeaves(schema: object, obj: Record<string, unknown>, prefix: string, out: [string, unknown][]): void {
  for (const [k, v] of Object.entries(obj)) {
    const node = (schema as Record<string, unknown>)[k];
    if (node === null || typeof node !== 'object' || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    if ('default' in node) { out.push([prefix + k, v]); delete obj[k]; }
    else takeObjectLeaves(node, v as Record<string, unknown>, `${prefix}${k}.`, out);
  }
}

/** The configuration schema (convict): every key, its doc, default, format and env var. */
export const configSchema = {
  source: {
    kind: { doc: 'Where examples come from', format: ['synthetic', 'file', 'kafka'], default: 'synthetic', env: 'LIONCTR_SOURCE' },
    seed: { doc: 'Seed of the synthetic click stream', format: 'int', default: 1, env: 'LIONCTR_SOURCE_SEED' },
    path: { doc: 'Input file of the file source', format: String, default: '', env: 'LIONCTR_SOURCE_PATH' },
    format: { doc: 'Format of the file source', format: ['criteo', 'csv', 'jsonl'], default: 'criteo', env: 'LIONCTR_SOURCE_FORMAT' },
    skip: { doc: 'Data rows of the file to skip first', format: 'nat', default: 0 },
    limit: { doc: 'Max examples to read per pass (0 = no limit)', format: 'nat', default: 0, env: 'LIONCTR_SOURCE_LIMIT' },
    epochs: { doc: 'Passes over a file source', format: 'positive-int', default: 1 },
  },
  kafka: {
    brokers: { doc: 'Bootstrap brokers host:port', format: 'string-list', default: ['127.0.0.1:19092'], env: 'LIONCTR_KAFKA_BROKERS' },
    clientId: { doc: 'Kafka client id', format: String, default: 'lionctr', env: 'LIONCTR_KAFKA_CLIENT_ID' },
    topic: { doc: 'Topic the kafka source trains from', format: String, default: 'clicks', env: 'LIONCTR_KAFKA_TOPIC' },
    groupId: { doc: 'Consumer group of the trainers', format: String, default: 'lionctr-trainer', env: 'LIONCTR_KAFKA_GROUP_ID' },
    format: { doc: 'Message decoder: jsonl (one JSON object per message, the JSON-lines shape) or criteo (one TSV line)', format: ['jsonl', 'criteo'], default: 'jsonl', env: 'LIONCTR_KAFKA_FORMAT' },
    deadLetterTopic: { doc: 'Topic that receives bad messages (original bytes; reason and position in headers); empty = count and skip only', format: String, default: 'clicks.dlq', env: 'LIONCTR_KAFKA_DLQ_TOPIC' },
    maxMessageBytes: { doc: 'Messages larger than this are bad (reason oversized), bytes', format: 'positive-int', default: 65536 },
    fromBeginning: { doc: 'Start at the earliest offset when neither a checkpoint nor the group has one (else the latest)', format: Boolean, default: true },
    queueMaxRows: { doc: 'Decoded rows buffered ahead of training; above this the consumer pauses fetching (backpressure)', format: 'positive-int', default: 65536 },
    lingerMs: { doc: 'How long a partial batch waits for more rows before it is trained anyway, ms', format: 'nat', default: 200 },
    sessionTimeoutMs: { doc: 'Consumer group session timeout, ms (a crashed trainer\'s partitions move after this)', format: 'positive-int', default: 10000 },
    heartbeatIntervalMs: { doc: 'Consumer heartbeat interval, ms', format: 'positive-int', default: 1000 },
    releaseWaitMs: { doc: 'How long a trainer that gets a partition waits for its live previous owner to checkpoint and release it, ms', format: 'positive-int', default: 30000 },
    ssl: { doc: 'Use TLS to the brokers', format: Boolean, default: false, env: 'LIONCTR_KAFKA_SSL' },
    sasl: {
      mechanism: { doc: 'SASL mechanism (empty = no SASL)', format: ['', 'plain', 'scram-sha-256', 'scram-sha-512'], default: '', env: 'LIONCTR_KAFKA_SASL_MECHANISM' },
      username: { doc: 'SASL user name', format: String, default: '', env: 'LIONCTR_KAFKA_SASL_USERNAME' },
      password: { doc: 'SASL password (set it through the env var, not a file)', format: String, default: '', sensitive: true, env: 'LIONCTR_KAFKA_SASL_PASSWORD' },
    },
  },
  checkpoint: {
    enabled: { doc: 'Write checkpoints and resume from the newest valid one at start', format: Boolean, default: true, env: 'LIONCTR_CHECKPOINT_ENABLED' },
    dir: { doc: 'Checkpoints root (empty = <export.dir>/checkpoints)', format: String, default: '', env: 'LIONCTR_CHECKPOINT_DIR' },
    intervalSeconds: { doc: 'Seconds between checkpoints (one is also written at the end and when a Kafka partition is released)', format: 'nonneg-number', default: 30, env: 'LIONCTR_CHECKPOINT_INTERVAL_SECONDS' },
    keep: { doc: 'Checkpoints kept on disk', format: 'positive-int', default: 2 },
  },
  schema: {
    numeric: { doc: 'Numeric slots (also embedded through their Criteo bucket)', format: 'string-list', default: slots.numeric },
    categorical: { doc: 'Categorical slots', format: 'string-list', default: slots.categorical },
    embeddingDim: { doc: 'Embedding dim D of every slot', format: 'positive-int', default: 16, env: 'LIONCTR_EMBEDDING_DIM' },
    dims: { doc: 'Per-slot embedding dim overrides {slot: D}', format: 'slot-dims', default: {} as Record<string, number> },
  },
  model: {
    hidden: { doc: 'Hidden layer sizes of the dense tower', format: 'int-list', default: [256, 128] },
    initStd: { doc: 'Std of initial embedding values', format: 'nonneg-number', default: 0.01 },
    seed: { doc: 'Seed of the tower init', format: 'int', default: 1 },
    fm: { doc: 'Add the factorization-machine pairwise term of the embeddings to the logit (DeepFM)', format: Boolean, default: false },
    momentumDtype: { doc: 'Storage of embedding-row Lion momentum: float32 or bfloat16 (half the optimizer memory)', format: ['float32', 'bfloat16'], default: 'float32' },
  },
  optim: {
    dense: lion('dense', 3e-4, 0.1),
    embedding: lion('embedding', 3e-3, 3),
    linear: lion('linear', 3e-3, 3),
    bias: lion('bias', 1e-3, 0),
    tables: { doc: 'Per-slot overrides of the embedding group: {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}', format: 'table-overrides', default: {} as Record<string, Record<string, number | string>> },
    clipGlobalNorm: { doc: 'Clip the dense gradients to this global L2 norm (0 = off)', format: 'nonneg-number', default: 0 },
    fromAdamW: {
      enabled: { doc: 'Read every group\'s lr and weightDecay as AdamW settings and convert them (Lion paper sec. 5: lr / factor, wd * factor)', format: Boolean, default: false },
      factor: { doc: 'The 3..10 factor of the AdamW conversion', format: 'nonneg-number', default: 3 },
    },
    sparseKernel: { doc: 'Sparse step kernel: wasm (WebAssembly SIMD, the default) or js; the JS one also runs where wasm cannot (decayed/exact under a non-constant schedule, tables over 4 GiB)', format: ['wasm', 'js'], default: 'wasm' },
    sparseMode: { doc: 'Catch-up of idle embedding rows: lazy (frozen), decayed (momentum and weight decay caught up), exact (identical to dense Lion)', format: ['lazy', 'decayed', 'exact'], default: 'lazy' },
    schedule: {
      kind: { doc: 'lr schedule of every group: constant, inverse-sqrt (max(floor, 1/sqrt(1+t/timescale))) or cosine (to floor over timescale steps)', format: ['constant', 'inverse-sqrt', 'cosine'], default: 'inverse-sqrt' },
      timescaleSteps: { doc: 'Time scale (inverse-sqrt) or length (cosine) of the schedule, steps', format: 'positive-int', default: 5 },
      warmupSteps: { doc: 'Steps of linear lr warm-up', format: 'nat', default: 0 },
      floor: { doc: 'Smallest (inverse-sqrt) or final (cosine) lr multiplier', format: 'unit-interval', default: 0.1 },
    },
  },
  train: {
    batchSize: { doc: 'Examples per step', format: 'positive-int', default: 4096, env: 'LIONCTR_BATCH_SIZE' },
    maxExamples: { doc: 'Stop after this many examples (0 = run until the source ends or SIGTERM)', format: 'nat', default: 0, env: 'LIONCTR_MAX_EXAMPLES' },
    metricsWindow: { doc: 'Examples in the progressive-validation window', format: 'positive-int', default: 100_000 },
    progressSeconds: { doc: 'Seconds between progress lines', format: 'nonneg-number', default: 5 },
    auditLog: { doc: 'Test/debug aid: JSON-lines file receiving every trained row\'s source position per step (empty = off)', format: String, default: '', env: 'LIONCTR_AUDIT_LOG' },
  },
  export: {
    dir: { doc: 'Exports root (versions + LATEST)', format: String, default: 'exports', env: 'LIONCTR_EXPORT_DIR' },
    intervalSeconds: { doc: 'Seconds between periodic exports (0 = only at the end)', format: 'nonneg-number', default: 60, env: 'LIONCTR_EXPORT_INTERVAL_SECONDS' },
    keep: { doc: 'Export versions kept on disk', format: 'positive-int', default: 3 },
  },
  serve: {
    host: { doc: 'Address the prediction endpoint binds', format: String, default: '127.0.0.1', env: 'LIONCTR_SERVE_HOST' },
    port: { doc: 'Port of the prediction endpoint and /metrics', format: 'port', default: 8080, env: 'LIONCTR_SERVE_PORT' },
    modelName: { doc: 'Model name in /v1/models/<name>', format: String, default: 'ctr' },
    pollSeconds: { doc: 'Seconds between checks of LATEST for a new export', format: 'nonneg-number', default: 1 },
    drainSeconds: { doc: 'On SIGTERM, seconds during which /readyz answers 503 but predictions are still served, before the server closes (lets a load balancer stop sending first)', format: 'nonneg-number', default: 2, env: 'LIONCTR_SERVE_DRAIN_SECONDS' },
  },
  backend: { doc: 'tfjs backend: auto (tensorflow, then wasm, then cpu) or one of them', format: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', env: 'LIONCTR_BACKEND' },
  log: { level: { doc: 'Log level', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], default: 'info', env: 'LIONCTR_LOG_LEVEL' } },
};

const probe = convict(configSchema);
/** The resolved configuration. */
export type LionctrConfig = ReturnType<typeof probe.getProperties>;

/** The shipped defaults file, `config/default.json` at the package root. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/** The schema's defaults as a plain object (what config/default.json holds). */
export function schemaDefaults(): LionctrConfig {
  return convict(configSchema).getProperties();
}

/**
 * Loads the configuration: schema defaults, then config/default.json, then the given file(s),
 * then environment variables, then `--set key=value` overrides, then validates strictly.
 * @param files config files (JSON), applied in order.
 * @param sets  `key=value` strings; value parsed as JSON when it parses, else a string.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key that is wrong (or the file).
 */
export function loadConfig(files: string[] = [], sets: string[] = []): LionctrConfig {
  const c = convict(configSchema);
  for (const f of existsSync(DEFAULT_CONFIG_FILE) ? [DEFAULT_CONFIG_FILE, ...files] : files) {
    let obj: unknown;
    try { obj = JSON.parse(readFileSync(f, 'utf8')); } catch (e) { throw new LionctrError('LIONCTR_BAD_CONFIG', `cannot read config file: ${(e as Error).message}`, { where: f }); }
    try {
      // convict descends into object values of a file even where the schema has a leaf
      // (optim.tables, schema.dims) and fails: set those whole, after the rest
      const leaves: [string, unknown][] = [];
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) takeObjectLeaves(configSchema, obj as Record<string, unknown>, '', leaves);
      c.load(obj as object);
      for (const [key, v] of leaves) c.set(key as never, v as never);
    } catch (e) { throw new LionctrError('LIONCTR_BAD_CONFIG', (e as Error).message, { where: f }); }
  }
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new LionctrError('LIONCTR_BAD_CONFIG', `--set expects key=value, got "${s}"`, { where: '--set' });
    const key = s.slice(0, eq), raw = s.slice(eq + 1);
    if (!c.has(key as never)) throw new LionctrError('LIONCTR_BAD_CONFIG', `unknown config key "${key}"`, { where: key });
    let v: unknown = raw;
    try { v = JSON.parse(raw); } catch { /* plain string */ }
    c.set(key as never, v as never);
  }
  try {
    c.validate({ allowed: 'strict' });
  } catch (e) {
    throw new LionctrError('LIONCTR_BAD_CONFIG', `invalid configuration: ${(e as Error).message}`);
  }
  return c.getProperties();
}
