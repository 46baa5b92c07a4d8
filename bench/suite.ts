/**
 * The speed suite (issue 13): lionctr per tfjs backend against a PyTorch peer training the same
 * model, interleaved in one invocation (each round runs every runner once per setting, back to
 * back: A B A B A B), in two modes: `ids` (pre-made integer ids: the step alone) and `raw` (the
 * same Criteo-format file, read, parsed, hashed and trained on: end to end). It prints a table
 * (examples/s with their range, ratios to the peer with their range, the split of a step, peak
 * RSS, cores busy), both models' holdout AUC on the Criteo sample, the load average, and writes
 * all of it as JSON. `npm run bench` runs it; `--help` lists the flags (suite/options.ts).
 *
 *   npm run bench -- --batches 4096 --rows 100000 --rounds 3 --json out.json
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeIdBatches, writeIdBatches } from './suite/ids-file.ts';
import { parseSuiteArgs, type SuiteOptions, USAGE } from './suite/options.ts';
import { formatTable, machineBusy, summarize, targetLines, type RunFigures, type RunRecord } from './suite/report.ts';
import { ensureVenv, lionctrWorker, peerWorker, type Worker } from './suite/workers.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), 'suite');
let opts: ReturnType<typeof parseSuiteArgs>;
try {
  opts = parseSuiteArgs(process.argv.slice(2), tmpdir());
} catch (err) {
  console.error(`lionctr bench suite: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts === 'help') {
  console.log(USAGE);
  process.exit(0);
}
const o = opts;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const startedAt = new Date().toISOString(),
  loadStart = load();
if (o.fromJson) {
  const saved = JSON.parse(readFileSync(o.fromJson, 'utf8'));
  finish(saved.runs ?? [], saved.auc ?? {}, saved.options?.threads ?? o.threads, {
    ...saved,
    options: saved.options ?? o,
  });
  process.exit(0);
}
if ((o.auc || o.modes.includes('raw')) && !existsSync(o.data)) {
  console.error(`lionctr bench suite: no Criteo sample at ${o.data} (--data PATH; or --modes ids --no-auc)`);
  process.exit(2);
}
let torchVersion = '';
if (o.peer) {
  try {
    torchVersion = ensureVenv(o.venv, (m) => console.log(m));
  } catch (err) {
    console.error(`lionctr bench suite: ${(err as Error).message} (--no-peer runs lionctr alone)`);
    process.exit(2);
  }
}
console.log(
  `lionctr speed suite: batches ${o.batches.join(',')}, table rows ${o.rows.join(',')}, modes ${o.modes.join(',')}, ` +
    `${o.threads} threads, ${o.rounds} rounds of ${o.seconds} s runs; ${cpus().length} CPUs, ` +
    `load average ${loadStart}${torchVersion ? `; torch ${torchVersion}` : ''}`,
);

// the raw file: the sample's lines looped to a multiple of every batch size (no partial batch to drop)
const tmp = join(tmpdir(), `lionctr-suite-${process.pid}`);
const rawFile = `${tmp}.tsv`;
if (o.modes.includes('raw')) {
  const lines = readFileSync(o.data, 'utf8').split('\n').filter(Boolean);
  const lcm = o.batches.reduce((a, b) => (a * b) / gcd(a, b), 1);
  const want = Math.max(65536, 4 * Math.max(...o.batches));
  const n = lcm <= 1 << 21 ? Math.ceil(want / lcm) * lcm : want;
  writeFileSync(rawFile, `${Array.from({ length: n }, (_, i) => lines[i % lines.length]).join('\n')}\n`);
}

const other = o.compare ? join(resolve(o.compare), 'bench', 'suite') : undefined;
const otherName = o.compare ? basename(resolve(o.compare)) : '';
const workers: Worker[] = [
  ...o.backends.flatMap((b) =>
    (b === 'wasm' ? o.wasmThreads : b === 'tensorflow' ? o.tfThreads : [1]).flatMap((n) => {
      const named = b === 'wasm' ? n !== o.threads && o.wasmThreads.length > 1 : n !== 'default';
      const name = named ? `${b} ${n}t` : b;
      const wasmThreads = b === 'wasm' ? (n as number) : 1;
      const tfThreads = b === 'tensorflow' ? n : 'default';
      const untuned = { LIONCTR_MALLOC_TUNE: 'off' };
      return [
        lionctrWorker(b, here, name, wasmThreads, tfThreads),
        ...(other ? [lionctrWorker(b, other, `${name}@${otherName}`, wasmThreads, tfThreads)] : []),
        ...(o.mallocUntuned ? [lionctrWorker(b, here, `${name} malloc-off`, wasmThreads, tfThreads, untuned)] : []),
      ];
    }),
  ),
  ...(o.peer ? [peerWorker(o.venv, o.threads, here)] : []),
];
const auc: Record<string, unknown> = {};
if (o.auc) {
  const cmd = { cmd: 'auc', file: o.data, trainRows: 8000, epochs: 2, batch: 256, rows: 10_000_000 };
  for (const w of workers) {
    auc[w.name] = await w.send(cmd);
    console.log(`holdout AUC ${w.name}: ${JSON.stringify(auc[w.name])}`);
  }
}
const runs: RunRecord[] = [];
for (const rows of o.rows)
  for (const mode of o.modes)
    for (const batch of o.batches) {
      const idsFile = `${tmp}-ids-${batch}-${rows}.bin`;
      if (mode === 'ids') writeIdBatches(idsFile, makeIdBatches(4, batch, rows));
      const cmd = { cmd: 'run', mode, batch, rows, seconds: o.seconds, minSteps: o.minSteps, maxSteps: o.maxSteps };
      for (let round = 1; round <= o.rounds; round++) {
        const said: string[] = [];
        for (const [w, thread] of runnersOf(mode)) {
          w.resetPeakRss();
          const a = await w.send({ ...cmd, splitSteps: o.splitSteps, idsFile, rawFile, ingestThread: thread === 'on' });
          const runner = thread === 'off' && o.ingestThread.length > 1 ? `${w.name} no-thread` : w.name;
          const rec: RunRecord = { mode, batch, rows, runner, round };
          if (typeof a.error === 'string') rec.error = a.error;
          else rec.figures = { ...(a as unknown as RunFigures), peakRssMb: w.peakRssMb() };
          runs.push(rec);
          said.push(`${runner} ${rec.figures ? `${(rec.figures.examplesPerSecond / 1e3).toFixed(1)}k/s` : 'failed'}`);
        }
        console.log(`${mode} batch ${batch} rows ${rows} round ${round}: ${said.join(', ')}`);
      }
      rmSync(idsFile, { force: true });
    }
for (const w of workers) w.close();
rmSync(rawFile, { force: true });

finish(runs, auc, o.threads, {
  startedAt,
  loadAverage: { start: loadStart },
  host: { cpus: cpus().length, node: process.version, torch: torchVersion },
  options: o,
});

/**
 * Prints the table, the targets, the AUC and the load average of `runs`, and writes them with
 * `meta` to --json.
 */
function finish(
  runs: RunRecord[],
  auc: Record<string, unknown>,
  threads: number,
  meta: { loadAverage?: { start?: string; end?: string }; [k: string]: unknown },
): void {
  const summary = summarize(runs, 'torch');
  const loadEnd = meta.loadAverage?.end ?? load();
  const cpuCount = (meta.host as { cpus?: number } | undefined)?.cpus ?? cpus().length;
  const busy = machineBusy([meta.loadAverage?.start, loadEnd], cpuCount);
  const targets = targetLines(summary, threads, busy);
  console.log(`\n${formatTable(summary)}\n`);
  console.log(
    'split: % of the summed phases per step (lionctr: source and featurize from the timed steps, the rest from ' +
      'instrumented steps); cores: CPU time / wall time over the timed steps; tfjs-wasm threads ' +
      `(LIONCTR_WASM_THREADS): ${wasmThreadsNote(meta.options as SuiteOptions | undefined)}`,
  );
  for (const t of targets) console.log(t);
  for (const [name, a] of Object.entries(auc)) console.log(`holdout AUC ${name}: ${(a as { auc?: number }).auc ?? a}`);
  console.log(`load average (1, 5, 15 min) at start ${meta.loadAverage?.start ?? '?'}, at end ${loadEnd}`);
  if (busy)
    console.log(
      `WARNING: a load average above ${cpuCount / 2} on ${cpuCount} CPUs: other work shared the cores, ` +
        'so these figures say who got them more than how fast each runner is; run again on a quiet machine',
    );
  const out = {
    ...meta,
    finishedAt: meta.finishedAt ?? new Date().toISOString(),
    loadAverage: { start: meta.loadAverage?.start, end: loadEnd },
    busy,
    auc,
    summary,
    targets,
    runs,
  };
  writeFileSync(o.json, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`JSON: ${o.json}`);
}

/** The runs of one round: each worker, lionctr's once per --ingest-thread setting in raw mode. */
function runnersOf(mode: string): [Worker, 'on' | 'off'][] {
  return workers.flatMap((w): [Worker, 'on' | 'off'][] =>
    mode === 'raw' && w.name !== 'torch' ? o.ingestThread.map((t): [Worker, 'on' | 'off'] => [w, t]) : [[w, 'on']],
  );
}

/** The wasm runners' thread counts, e.g. "wasm 2, wasm 1t 1" (a saved run before --wasm-threads: its env's). */
function wasmThreadsNote(saved: SuiteOptions | undefined): string {
  const list = saved?.wasmThreads;
  if (!list) return `${process.env.LIONCTR_WASM_THREADS || 1}`;
  const th = saved.threads;
  return list.map((n) => `${n === th || list.length === 1 ? 'wasm' : `wasm ${n}t`} ${n}`).join(', ');
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
