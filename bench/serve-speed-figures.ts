/**
 * The figures of bench/serve-speed.ts: one phase's, the CPU they cost, and the medians over
 * rounds against issue 11's serving-speed targets.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Figures of one phase. */
export interface Figures {
  reqPerS: number;
  instPerS: number;
  p50: number;
  p99: number;
  load: number;
  failed: number;
  /** CPU µs per instance of the server process (in-process: of this process), user + system. */
  cpuPerInst: number;
  /** CPU µs per request of this process while autocannon ran (NaN in-process). */
  clientCpuPerReq: number;
  /** The system (kernel) share of cpuPerInst, percent (socket reads and writes, wakeups). */
  sysPercent: number;
}

/** CPU seconds of process `pid` alone so far, system only when `sys` else user + system, from /proc (NaN: none). */
function ownCpuOf(pid: number, sys: boolean): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // utime, stime in USER_HZ (100 on Linux)
    return ((sys ? 0 : Number(fields[11])) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The live child processes of `pid` (/proc/<pid>/task/<tid>/children; none where it cannot be read). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * CPU seconds (user + system) of process `pid` and its live descendants so far (`serve --workers N`:
 * the primary and its workers; a worker that died in between is missed), from /proc (NaN where there is none);
 * system time only when `sys`.
 */
export function cpuSecondsOf(pid: number | undefined, sys = false): number {
  if (pid === undefined) return NaN;
  let sum = ownCpuOf(pid, sys);
  for (const c of childrenOf(pid)) sum += cpuSecondsOf(c, sys);
  return sum;
}

/** CPU seconds (user + system) of this process so far. */
export const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const fmt = (x: number, d = 0) => x.toFixed(d).padStart(9);

/** Median of xs. */
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** Prints each server's median figures over the rounds and whether they meet the targets. */
export function printMedians(results: Map<string, Figures[]>, sizes: number[], labels: string[], rounds: number) {
  console.log(`medians over ${rounds} rounds (targets: p99 < 10 ms and >= 41000 inst/s at 16; >= 0.70 of in-process)`);
  for (const n of sizes) {
    const inproc = results.get(`${n} in-process`) ?? [];
    for (const label of labels) {
      const fs = results.get(`${n} ${label}`) ?? [];
      const ratios = fs.map((f, i) => f.instPerS / inproc[i].instPerS);
      const inst = median(fs.map((f) => f.instPerS)),
        p99 = median(fs.map((f) => f.p99)),
        ratio = median(ratios);
      const met = [ratio >= 0.7 ? 'ratio ok' : 'ratio MISSED'];
      if (n === 16) met.push(p99 < 10 ? 'p99 ok' : 'p99 MISSED', inst >= 41000 ? 'inst/s ok' : 'inst/s MISSED');
      console.log(
        `${String(n).padStart(5)} ${label.padEnd(12)} inst/s ${fmt(inst)}  p99 ${fmt(p99, 2)}  vs inproc ` +
          `${fmt(ratio, 2)} (${ratios.map((r) => r.toFixed(2)).join(' ')})  cpu us/i ` +
          `${fmt(median(fs.map((f) => f.cpuPerInst)), 1)}  ${met.join(', ')}`,
      );
    }
  }
}
