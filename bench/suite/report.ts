/**
 * The suite's figures (bench/suite.ts): per setting and runner, the median examples/s over the
 * rounds with their range, the ratio to the peer (median and range of the per-round ratios, each
 * round's runs made back to back), the split of a step, peak RSS and the cores busy; the table
 * printed and the targets of issue 13 checked. Pure functions, so tests run them on made-up figures.
 */

/** Phases of one training step, in the order the table shows them. */
export const PHASES = ['source', 'featurize', 'lookup', 'forward', 'backward', 'dense', 'sparse'] as const;

/** What a worker answers for one run (bench/suite/lionctr-worker.ts, bench/peers/torch_ctr.py). */
export interface RunFigures {
  examplesPerSecond: number;
  steps: number;
  /** Milliseconds per step, per phase. */
  split: Record<string, number>;
  /** Process CPU seconds / wall seconds over the timed steps (2 = both cores busy). */
  coresBusy: number;
  /** Peak resident memory of the worker during the run (VmHWM, reset before it), MB. */
  peakRssMb?: number;
}

/** One run of one runner in one round. */
export interface RunRecord {
  mode: string;
  batch: number;
  rows: number;
  runner: string;
  round: number;
  figures?: RunFigures;
  error?: string;
}

/** Median and range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** One line of the table. */
export interface SummaryRow {
  mode: string;
  batch: number;
  rows: number;
  runner: string;
  rounds: number;
  examplesPerSecond: Spread;
  /** Against the peer, per round; absent for the peer itself or without one. */
  vsPeer?: Spread;
  /** Median milliseconds per step per phase. */
  split: Record<string, number>;
  peakRssMb: number;
  coresBusy: number;
  errors: string[];
}

/** The median of numbers (NaN for none). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b),
    h = s.length >> 1;
  if (!s.length) return NaN;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The largest finite number (NaN for none). */
function maxOrNaN(xs: number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length ? Math.max(...f) : NaN;
}

/** Median and range of numbers. */
export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

const settingKey = (r: { mode: string; batch: number; rows: number }) => `${r.mode}|${r.batch}|${r.rows}`;

/** Summary rows per (setting, runner), in the order the runs came; `peer` names the runner ratios are against. */
export function summarize(runs: RunRecord[], peer = 'torch'): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${settingKey(r)}|${r.runner}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const peerRun = new Map<string, number>();
  for (const r of runs)
    if (r.runner === peer && r.figures) peerRun.set(`${settingKey(r)}|${r.round}`, r.figures.examplesPerSecond);
  return [...groups.values()].map((g) => {
    const ok = g.filter((r) => r.figures).map((r) => ({ ...r, f: r.figures! }));
    const ratios = ok
      .map((r) => r.f.examplesPerSecond / (peerRun.get(`${settingKey(r)}|${r.round}`) ?? NaN))
      .filter((x) => Number.isFinite(x));
    const split = Object.fromEntries(
      PHASES.map((p) => [p, median(ok.map((r) => r.f.split[p]).filter((x) => Number.isFinite(x)))]),
    );
    return {
      mode: g[0].mode,
      batch: g[0].batch,
      rows: g[0].rows,
      runner: g[0].runner,
      rounds: ok.length,
      examplesPerSecond: spread(ok.map((r) => r.f.examplesPerSecond)),
      ...(g[0].runner !== peer && ratios.length ? { vsPeer: spread(ratios) } : {}),
      split,
      peakRssMb: maxOrNaN(ok.map((r) => r.f.peakRssMb ?? NaN)),
      coresBusy: median(ok.map((r) => r.f.coresBusy)),
      errors: g.filter((r) => r.error).map((r) => r.error!),
    };
  });
}

/** 12345 -> "12.3k", 1e7 -> "1e7". */
const k = (x: number) => (Number.isFinite(x) ? (x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0)) : '-');
const pow = (x: number) => (Number.isInteger(Math.log10(x)) ? `1e${Math.log10(x)}` : String(x));

/** The table: one line per (setting, runner); the split in % of the step's phases summed. */
export function formatTable(rows: SummaryRow[]): string {
  const w = Math.max(11, ...rows.map((r) => r.runner.length));
  const head =
    `mode batch rows ${'runner'.padEnd(w)} examples/s (min-max)     vs torch (min-max)   ` +
    'ms/step  src feat look  fwd  bwd dens sprs   RSS MB cores';
  const lines = [head];
  for (const r of rows) {
    const e = r.examplesPerSecond,
      v = r.vsPeer;
    const total = PHASES.reduce((s, p) => s + (Number.isFinite(r.split[p]) ? r.split[p] : 0), 0);
    const pct = PHASES.map((p) => (Number.isFinite(r.split[p]) ? `${((100 * r.split[p]) / total).toFixed(0)}%` : '-'));
    lines.push(
      [
        r.mode.padEnd(4),
        String(r.batch).padStart(5),
        pow(r.rows).padStart(4),
        r.runner.padEnd(w),
        `${k(e.median).padStart(7)} (${k(e.min)}-${k(e.max)})`.padEnd(24),
        (v ? `${v.median.toFixed(2)}x (${v.min.toFixed(2)}-${v.max.toFixed(2)})` : '').padEnd(20),
        total.toFixed(0).padStart(7),
        ...pct.map((p) => p.padStart(4)),
        (Number.isFinite(r.peakRssMb) ? r.peakRssMb.toFixed(0) : '-').padStart(8),
        (Number.isFinite(r.coresBusy) ? r.coresBusy.toFixed(2) : '-').padStart(5),
        r.errors.length ? ` ${r.errors.length} failed: ${r.errors[0].slice(0, 80)}` : '',
      ].join(' '),
    );
  }
  return lines.join('\n');
}

/** Issue 13's targets: lionctr end to end from the raw file against the peer, per backend and setting. */
export const TARGETS: Record<string, number> = { tensorflow: 1.0, wasm: 0.5 };

/**
 * Whether the machine was too busy for the figures to measure speed: a 1-minute load average
 * (at start or end) above half the CPUs means other work shared the cores the runs were timed on.
 */
export function machineBusy(loads: (string | undefined)[], cpus: number): boolean {
  return loads.some((l) => Number(l?.split(' ')[0]) > cpus / 2);
}

/**
 * One line per raw-mode lionctr row with a target: the median ratio, its range, met or not
 * ("not conclusive" when `busy`: the ratios of a shared machine depend on who got the cores).
 */
export function targetLines(rows: SummaryRow[], threads: number, busy = false): string[] {
  return rows
    .filter((r) => r.mode === 'raw' && r.vsPeer && TARGETS[r.runner] !== undefined)
    .map((r) => {
      const t = TARGETS[r.runner],
        v = r.vsPeer!;
      const verdict = (v.median >= t ? 'met' : 'NOT met') + (busy ? ' (machine busy: not conclusive)' : '');
      return (
        `target ${r.runner} >= ${t.toFixed(1)}x torch, raw file, batch ${r.batch}, torch table ${pow(r.rows)}, ` +
        `${threads} threads: ${v.median.toFixed(2)}x (${v.min.toFixed(2)}-${v.max.toFixed(2)}) ${verdict}`
      );
    });
}
