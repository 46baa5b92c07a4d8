/**
 * lionctr's side of the suite (bench/suite.ts): a worker process on one tfjs backend
 * (argv[2]: tensorflow | wasm | cpu) that reads one JSON command per line on stdin and answers
 * one JSON line on stdout, as the PyTorch peer does (bench/peers/torch_ctr.py):
 *   {"cmd":"run","mode":"ids"|"raw","batch","rows","seconds","minSteps","maxSteps","splitSteps",
 *    "idsFile"|"rawFile","ingestThread"}: one warm-up step, then TrainStep.run for at least minSteps and
 *    `seconds` (at most maxSteps), then splitSteps instrumented replica steps (step-split.ts); in
 *    raw mode with ingestThread the file is read, parsed and featurized on an ingest thread, as
 *    `lionctr train` does (src/ingest/threaded: sourceSpecOf + openThreadedSource), else here;
 *   {"cmd":"auc","file","trainRows","epochs","batch"}: config/criteo.json's model and optimizer,
 *    trained on the file's first trainRows rows, holdout AUC on the rest;
 *   {"cmd":"quit"}.
 * The model and optimizer settings are config/criteo.json's (what the peer copies). In "ids" mode
 * every table is filled first with all its floor(rows / 39) ids (the peer's tables are that size
 * from the start), in "raw" mode the tables hold the ids of the file (rows does not apply).
 */
import { createInterface } from 'node:readline';
import type { RecordBatch } from 'apache-arrow';
import { pino } from 'pino';
import { featureSchemaOf, sourceSpecOf } from '../../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../../src/cli/model-setup.ts';
import { loadConfig } from '../../src/config/schema.ts';
import type { FeatureBatch } from '../../src/features/feature-batch.ts';
import { Featurizer } from '../../src/features/featurizer.ts';
import { criteoSlots } from '../../src/features/schema.ts';
import { createFileSource } from '../../src/ingest/file-source.ts';
import { featuresOf } from '../../src/ingest/threaded/batch-features.ts';
import { openThreadedSource } from '../../src/ingest/threaded/threaded-source.ts';
import { type BackendName, selectBackend, trainerTfThreads } from '../../src/model/backend.ts';
import type { CtrModel } from '../../src/model/ctr-model.ts';
import { auc } from '../../src/train/evaluation/binary-metrics.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import { idOf, readIdBatches } from './ids-file.ts';
import { noPhases, timedStep } from './step-split.ts';

interface RunCmd {
  mode: 'ids' | 'raw';
  batch: number;
  rows: number;
  seconds: number;
  minSteps: number;
  maxSteps: number;
  splitSteps: number;
  idsFile?: string;
  rawFile?: string;
  /** Raw mode: read through the ingest thread (as `lionctr train` does); false or absent: on this thread. */
  ingestThread?: boolean;
}
interface AucCmd {
  file: string;
  trainRows: number;
  epochs: number;
  batch: number;
}

const backend = (process.argv[2] ?? 'wasm') as BackendName;
// TensorFlow's threads as `lionctr train` (ingest thread on) sets them, unless the suite set TF_NUM_INTRAOP_THREADS
await selectBackend(backend, undefined, { tfThreads: trainerTfThreads(true) });
const cfg = loadConfig(['config/criteo.json'], []);
const schema = featureSchemaOf(cfg);
const fz = new Featurizer(schema);

/** A new model and train step of config/criteo.json's settings. */
function fresh(): { model: CtrModel; step: TrainStep } {
  const model = modelOf(cfg, schema);
  return { model, step: new TrainStep(model, optimConfigOf(cfg, model.slots)) };
}

let held: { key: string; model: CtrModel; step: TrainStep } | undefined;
/** The model of (mode, rows), made (and, in ids mode, filled with every id) when it changes. */
function modelFor(mode: string, rows: number): { model: CtrModel; step: TrainStep } {
  const key = `${mode}/${mode === 'ids' ? rows : 0}`;
  if (held?.key === key) return held;
  held?.model.dispose();
  held?.step.denseLion.dispose();
  held = undefined;
  const m = fresh();
  if (mode === 'ids') {
    const per = Math.floor(rows / m.model.tables.length);
    m.model.tables.forEach((t, f) => {
      for (let k = 0; k < per; k++) {
        const { hi, lo } = idOf(f, k);
        t.findOrAdmit(hi, lo);
      }
    });
  }
  held = { key, ...m };
  return held;
}

/** The pre-made batches of an ids file as FeatureBatches (ids mapped by idOf). */
function idFeatureBatches(path: string): FeatureBatch[] {
  const f = readIdBatches(path);
  return f.batches.map((x) => {
    const B = f.batch,
      S = f.slots;
    const idHi = new Uint32Array(B * S),
      idLo = new Uint32Array(B * S);
    for (let i = 0; i < B * S; i++) {
      const id = idOf(i % S, x.ids[i]);
      idHi[i] = id.hi;
      idLo[i] = id.lo;
    }
    const offsets = new Float64Array(B).map((_, b) => b);
    return {
      size: B,
      labels: x.labels,
      weights: new Float32Array(B).fill(1),
      dense: x.dense,
      idHi,
      idLo,
      eventTimeMs: new Float64Array(B).fill(NaN),
      partitions: new Int32Array(B),
      offsets,
    };
  });
}

/** Endless full batches of a Criteo file, read again from the start at its end. */
async function* endless(path: string, batch: number): AsyncGenerator<RecordBatch> {
  for (;;) {
    const src = createFileSource({ path, format: 'criteo', schema: criteoSlots() });
    for await (const rb of src.batches({ batchSize: batch })) if (rb.numRows === batch) yield rb;
  }
}

const threadLogger = pino({ level: 'warn' }, pino.destination(2));

/**
 * Endless full batches of a Criteo file read on an ingest thread exactly as `lionctr train` reads
 * its configured file (sourceSpecOf, openThreadedSource with source.thread.queueBatches), the
 * features attached (featuresOf); the source is opened again at the file's end.
 */
async function* endlessThreaded(path: string, batch: number): AsyncGenerator<RecordBatch> {
  const c = { ...cfg, source: { ...cfg.source, kind: 'file' as const, format: 'criteo' as const, path, skip: 0 } };
  c.source.limit = 0;
  for (;;) {
    const src = await openThreadedSource({
      spec: sourceSpecOf(c, schema),
      features: schema,
      queueBatches: cfg.source.thread.queueBatches,
      logger: threadLogger,
    });
    try {
      for await (const rb of src.batches({ batchSize: batch })) if (rb.numRows === batch) yield rb;
    } finally {
      await src.close?.();
    }
  }
}

let idsCache: { path: string; batches: FeatureBatch[] } | undefined;

async function run(c: RunCmd) {
  const { model, step } = modelFor(c.mode, c.rows);
  let next: () => Promise<RecordBatch | FeatureBatch>;
  let close = async () => {};
  if (c.mode === 'ids') {
    if (idsCache?.path !== c.idsFile) idsCache = { path: c.idsFile!, batches: idFeatureBatches(c.idsFile!) };
    const pre = idsCache!.batches;
    let k = 0;
    next = async () => pre[k++ % pre.length];
  } else {
    const it = c.ingestThread ? endlessThreaded(c.rawFile!, c.batch) : endless(c.rawFile!, c.batch);
    next = async () => (await it.next()).value as RecordBatch;
    close = async () => void (await it.return(undefined)); // closes the file
  }
  const toBatch = (x: RecordBatch | FeatureBatch): FeatureBatch =>
    c.mode === 'raw' ? featuresOf(fz, x as RecordBatch) : (x as FeatureBatch);
  step.run(toBatch(await next())); // warm-up
  const t = { source: 0, featurize: 0, step: 0 };
  let steps = 0,
    n = 0;
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  let wall = 0;
  for (;;) {
    const a = performance.now();
    const x = await next();
    const b = performance.now();
    const fb = toBatch(x);
    const d = performance.now();
    step.run(fb);
    const e = performance.now();
    t.source += b - a;
    t.featurize += d - b;
    t.step += e - d;
    steps++;
    n += fb.size;
    wall = (e - t0) / 1000;
    if (steps >= c.maxSteps || (steps >= c.minSteps && wall >= c.seconds)) break;
  }
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const ph = noPhases();
  for (let i = 0; i < c.splitSteps; i++) timedStep(step, toBatch(await next()), ph);
  await close();
  const per = (ms: number, k: number) => (k > 0 ? ms / k : NaN);
  const split = {
    source: per(t.source, steps),
    featurize: per(t.featurize, steps),
    ...Object.fromEntries(Object.entries(ph).map(([k, v]) => [k, per(v, c.splitSteps)])),
  };
  const rows = model.tables.reduce((s, tb) => s + tb.size, 0);
  return {
    examplesPerSecond: n / wall,
    steps,
    examples: n,
    wallS: wall,
    cpuS,
    coresBusy: cpuS / wall,
    split,
    stepMs: t.step / steps,
    tableRows: rows,
    kernel: step.kernelNote,
  };
}

async function holdout(c: AucCmd) {
  const { model, step } = fresh();
  const file = (o: { skip?: number; limit?: number }) =>
    createFileSource({ path: c.file, format: 'criteo', schema: criteoSlots(), ...o });
  for (let e = 0; e < c.epochs; e++)
    for await (const rb of file({ limit: c.trainRows }).batches({ batchSize: c.batch }))
      step.run(fz.fromRecordBatch(rb));
  const p: number[] = [],
    y: number[] = [];
  for await (const rb of file({ skip: c.trainRows }).batches({ batchSize: 4096 })) {
    const b = fz.fromRecordBatch(rb);
    p.push(...model.predict(b));
    y.push(...b.labels);
  }
  model.dispose();
  step.denseLion.dispose();
  return { auc: auc(p, y), examples: y.length, rows: model.tables.reduce((s, tb) => s + tb.size, 0) };
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'quit') break;
  let out: unknown;
  try {
    out = cmd.cmd === 'run' ? await run(cmd) : await holdout(cmd);
  } catch (err) {
    out = { error: (err as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(err) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
process.exit(0);
