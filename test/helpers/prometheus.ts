/**
 * Prometheus for the ops tests (test/integration/prometheus-*.test.ts): where Debian's
 * `prometheus` package put `promtool` and `prometheus` (.ci/run installs it), or why they are
 * absent. Without them the tests skip with that message, and fail under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** The shipped Prometheus files. */
export const PROM_DIR = resolve(ROOT, 'ops/prometheus');

/** Paths of promtool and prometheus, or why they cannot be used. */
export interface PromTools {
  promtool: string | null;
  prometheus: string | null;
  why: string;
}

/** The first `name` on PATH that answers `--version`, or null. */
function onPath(name: string): string | null {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? name : null;
}

/** Finds promtool and prometheus on PATH; never throws. */
export function findPromTools(): PromTools {
  const promtool = onPath('promtool');
  const prometheus = onPath('prometheus');
  const missing = [promtool ? '' : 'promtool', prometheus ? '' : 'prometheus'].filter(Boolean);
  const why = missing.length
    ? `${missing.join(' and ')} not on PATH (Debian: apt-get install prometheus; .ci/run does it)`
    : '';
  return { promtool, prometheus, why };
}

/** Runs promtool with `args` (cwd: the repository root, `input` on stdin); its status and output. */
export function promtool(tools: PromTools, args: string[], input?: string) {
  if (!tools.promtool) throw new Error(tools.why);
  const r = spawnSync(tools.promtool, args, { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
