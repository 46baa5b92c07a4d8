/**
 * The ingest thread against none: examples/s and process CPU utilisation (user + system CPU
 * time of all threads / wall time; above 100% the second core works) of whole training
 * runs, source.thread.enabled on and off, interleaved A B B A ... in one invocation, on the
 * synthetic stream and on the Criteo sample file, with the 1-min load average of each run.
 * Each run is a child process (createTrainer + run, no exports or checkpoints).
 *
 *   npx tsx bench/ingest-thread.ts [--rounds 3] [--examples 200000] [--batch 4096]
 *     [--criteo ../shared/data/criteo-10k/criteo_10k.tsv] [--criteo-epochs 4] [--criteo-batch 4096]
 *     [--hidden 256,128] [--backend wasm] [--only synthetic,criteo]
 *
 * wasm (the default) trains on one thread, as issue 13 describes: without the ingest thread
 * the second core idles; `--backend tensorflow` uses both cores for the step already.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createTrainer } from '../src/cli/train-session.ts';
import { loadConfig } from '../src/config/schema.ts';

const { values: v } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    examples: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '4096' },
    criteo: { type: 'string', default: '../shared/data/criteo-10k/criteo_10k.tsv' },
    'criteo-epochs': { type: 'string', default: '4' },
    'criteo-batch': { type: 'string', default: '4096' },
    hidden: { type: 'string', default: '256,128' },
    backend: { type: 'string', default: 'wasm' },
    only: { type: 'string', default: 'synthetic,criteo' },
    child: { type: 'string' },
    thread: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (v.help) {
  console.log(
    'usage: npx tsx bench/ingest-thread.ts [--rounds 3] [--examples 200000] [--batch 4096] [--criteo FILE] ' +
      '[--criteo-epochs 4] [--criteo-batch 4096] [--hidden 256,128] [--backend wasm] [--only synthetic,criteo]',
  );
  process.exit(0);
}

/** One run's figures. */
interface Figures {
  workload: string;
  thread: boolean;
  examples: number;
  seconds: number;
  examplesPerSecond: number;
  cpuPercent: number;
  /** After the first 5 steps (start-up, the first batches: the same work on either thread). */
  steadyExamplesPerSecond: number;
  steadyCpuPercent: number;
  load1: number;
}

/** The `--set`s of a workload. */
function setsOf(workload: string, thread: boolean): string[] {
  const common = [
    `source.thread.enabled=${thread}`,
    `backend=${JSON.stringify(v.backend)}`,
    `model.hidden=[${v.hidden}]`,
    'schema.embeddingDim=16',
    'train.progressSeconds=0',
    'checkpoint.enabled=false',
    'export.intervalSeconds=0',
    'log.level="warn"',
  ];
  if (workload === 'synthetic')
    return [...common, 'source.kind="synthetic"', `train.maxExamples=${v.examples}`, `train.batchSize=${v.batch}`];
  return [
    ...common,
    'source.kind="file"',
    'source.format="criteo"',
    `source.path=${JSON.stringify(v.criteo)}`,
    'source.limit=0',
    `source.epochs=${v['criteo-epochs']}`,
    `train.batchSize=${v['criteo-batch']}`,
  ];
}

if (v.child) {
  const thread = v.thread === 'on';
  const cfg = loadConfig([], setsOf(v.child, thread));
  const trainer = await createTrainer(cfg, pino({ level: 'warn' }), { exportDir: null });
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  let steps = 0,
    c5 = c0,
    t5 = t0,
    n5 = 0;
  trainer.on('step', () => {
    if (++steps === 5) [c5, t5, n5] = [process.cpuUsage(), performance.now(), trainer.examples];
  });
  const s = await trainer.run();
  const wallMs = performance.now() - t0,
    c = process.cpuUsage(c0),
    cs = process.cpuUsage(c5),
    steadyMs = performance.now() - t5;
  const f: Figures = {
    workload: v.child,
    thread,
    examples: s.examplesThisRun,
    seconds: wallMs / 1000,
    examplesPerSecond: s.examplesThisRun / (wallMs / 1000),
    cpuPercent: ((c.user + c.system) / 1000 / wallMs) * 100,
    steadyExamplesPerSecond: (trainer.examples - n5) / (steadyMs / 1000),
    steadyCpuPercent: ((cs.user + cs.system) / 1000 / steadyMs) * 100,
    load1: loadavg()[0],
  };
  console.log(JSON.stringify(f));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const workloads = v.only.split(',').filter((w) => w !== 'criteo' || existsSync(v.criteo));
const runs: Figures[] = [];
for (let r = 0; r < Number(v.rounds); r++) {
  for (const w of workloads) {
    for (const thread of r % 2 === 0 ? [true, false] : [false, true]) {
      const out = execFileSync(tsx, [self, '--child', w, '--thread', thread ? 'on' : 'off', ...passOn()], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const f = JSON.parse(out.trim().split('\n').pop()!) as Figures;
      runs.push(f);
      console.log(
        `${w.padEnd(9)} thread ${thread ? 'on ' : 'off'}  ${f.examplesPerSecond.toFixed(0).padStart(7)} ex/s  ` +
          `cpu ${f.cpuPercent.toFixed(0).padStart(3)}%  ${f.seconds.toFixed(1)} s; after step 5: ` +
          `${f.steadyExamplesPerSecond.toFixed(0).padStart(7)} ex/s ` +
          `cpu ${f.steadyCpuPercent.toFixed(0).padStart(3)}%  ` +
          `load1 ${f.load1.toFixed(2)}`,
      );
    }
  }
}
console.log('\nmedian of the rounds (ratio on/off; cpu: process CPU time / wall, 200% = both cores)');
for (const w of workloads) {
  type Key = 'examplesPerSecond' | 'cpuPercent' | 'steadyExamplesPerSecond' | 'steadyCpuPercent';
  const med = (thread: boolean, k: Key) => {
    const xs = runs.filter((f) => f.workload === w && f.thread === thread).map((f) => f[k]);
    return xs.sort((a, b) => a - b)[xs.length >> 1];
  };
  const [on, off] = [med(true, 'examplesPerSecond'), med(false, 'examplesPerSecond')];
  const ratios = runs
    .filter((f) => f.workload === w && f.thread)
    .map((f, i) => f.examplesPerSecond / runs.filter((g) => g.workload === w && !g.thread)[i].examplesPerSecond);
  console.log(
    `${w.padEnd(9)} on ${on.toFixed(0)} ex/s (cpu ${med(true, 'cpuPercent').toFixed(0)}%), ` +
      `off ${off.toFixed(0)} ex/s ` +
      `(cpu ${med(false, 'cpuPercent').toFixed(0)}%): ratio ${(on / off).toFixed(2)} ` +
      `(per round ${ratios.map((x) => x.toFixed(2)).join(', ')}); after step 5: on ` +
      `${med(true, 'steadyExamplesPerSecond').toFixed(0)} ex/s ` +
      `(cpu ${med(true, 'steadyCpuPercent').toFixed(0)}%), off ` +
      `${med(false, 'steadyExamplesPerSecond').toFixed(0)} ex/s (cpu ${med(false, 'steadyCpuPercent').toFixed(0)}%)`,
  );
}

/** The child's flags: this run's sizes. */
function passOn(): string[] {
  const keys = ['examples', 'batch', 'criteo', 'criteo-epochs', 'criteo-batch', 'hidden', 'backend'] as const;
  return keys.flatMap((k) => [`--${k}`, String(v[k])]);
}
