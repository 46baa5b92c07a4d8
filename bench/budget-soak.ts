/**
 * Soak of the embedding store's memory budget (issue "The embedding store at production
 * scale"): `lionctr run` on the synthetic stream with an ever-growing vocabulary
 * (`source.synthetic.freshIdSlots`: every example brings that many never-seen ids) and
 * `model.memoryBudgetBytes`, for `--minutes`; every `--every` seconds it prints the process's
 * RSS (trainer, serving and the process, /proc/<pid>/status VmRSS) with the rows, evictions and
 * examples from /metrics. At the end: RSS after warm-up (the first quarter) against the end,
 * the growth in %, and how many rows a run without a budget would have made.
 *
 *   npx tsx bench/budget-soak.ts [--minutes 30] [--budget 268435456] [--fresh-slots 1] [--every 30]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    budget: { type: 'string', default: String(256 * 2 ** 20) },
    'fresh-slots': { type: 'string', default: '1' },
    every: { type: 'string', default: '30' },
    help: { type: 'boolean' },
  },
});
const usage = 'usage: npx tsx bench/budget-soak.ts [--minutes 30] [--budget 268435456] [--fresh-slots 1] [--every 30]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const minutes = Number(values.minutes),
  budget = Number(values.budget),
  fresh = Number(values['fresh-slots']),
  every = Number(values.every);
if (!(minutes > 0) || !Number.isInteger(budget) || !Number.isInteger(fresh) || !(every > 0)) {
  console.error(`bench/budget-soak: bad option\n${usage}`);
  process.exit(2);
}

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'lionctr-budget-soak-'));
const sets = {
  'serve.port': port,
  'export.dir': join(dir, 'exports'),
  'checkpoint.dir': join(dir, 'checkpoints'),
  'model.memoryBudgetBytes': budget,
  'source.synthetic.freshIdSlots': fresh,
  'model.momentumDtype': 'bfloat16',
};
const args = ['bin/lionctr.mjs', 'run', ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => {
  stderr = (stderr + d).slice(-4000);
});
const rssMiB = (): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};
const metric = (text: string, name: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ${args.slice(1).join(' ')}`,
);
console.log('minute | RSS MiB | rows | table MiB | evicted | rejected | examples trained');
const curve: { t: number; rss: number; examples: number; rows: number }[] = [];
const t0 = Date.now();
try {
  while (Date.now() - t0 < minutes * 60_000) {
    await new Promise((r) => setTimeout(r, every * 1000));
    if (child.exitCode !== null) throw new Error(`lionctr run exited ${child.exitCode}: ${stderr}`);
    let text = '';
    try {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch {
      continue; // not up yet
    }
    const p = {
      t: (Date.now() - t0) / 60_000,
      rss: rssMiB(),
      rows: metric(text, 'lionctr_embedding_rows'),
      examples: metric(text, 'lionctr_train_examples_total'),
    };
    curve.push(p);
    const cells = [
      p.t.toFixed(1),
      p.rss.toFixed(0),
      p.rows,
      (metric(text, 'lionctr_embedding_bytes') / 2 ** 20).toFixed(0),
      metric(text, 'lionctr_embedding_evicted_total'),
      metric(text, 'lionctr_embedding_rejected_total'),
      p.examples,
    ];
    console.log(cells.join(' | '));
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
const warm = curve.find((p) => p.t >= minutes / 4) ?? curve[0];
const end = curve[curve.length - 1];
if (warm && end) {
  const rest = curve.filter((p) => p.t >= warm.t);
  const max = Math.max(...rest.map((p) => p.rss));
  console.log(
    `RSS after warm-up (${warm.t.toFixed(1)} min) ${warm.rss.toFixed(0)} MiB, at the end ${end.rss.toFixed(0)} MiB ` +
      `(${(((end.rss - warm.rss) / warm.rss) * 100).toFixed(1)}%), max after warm-up ${max.toFixed(0)} MiB; ` +
      `budget ${(budget / 2 ** 20).toFixed(0)} MiB; ${end.examples} examples brought >= ${end.examples * fresh} ` +
      `new ids (rows without a budget), ${end.rows} rows held`,
  );
}
