/**
 * The frame of `lionctr native build` (README "Air-gapped hosts: the native backend"): its
 * settings, the numbered steps it runs, and running a child process whose failure names the
 * step. Each step checks whether its work is already done and skips it, so the build is
 * idempotent; a failed step throws LionctrError saying `native build step i/n (name)`.
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LionctrError, type LionctrErrorCode } from '../../errors.ts';

/** The `tensorflow-cpu` wheel whose C API library and headers the addon is built against. */
export const DEFAULT_WHEEL_SPEC = 'tensorflow-cpu==2.21.0';

/** Settings of one native build. */
export interface NativeBuildOptions {
  /** Package root: the folder whose node_modules receives @tensorflow/tfjs-node. */
  root: string;
  /** Cache of the wheel and its extracted library and headers (kept across builds and `npm ci`). */
  cacheDir: string;
  /** pip requirement of the wheel, e.g. `tensorflow-cpu==2.21.0`. */
  wheelSpec: string;
  /** A wheel file to use instead of `pip download` (hosts without a pip index). */
  wheelFile?: string;
  /** Rebuild the addon even when the native backend already loads. */
  force: boolean;
  /** Progress lines (one per step, with seconds taken). */
  log: (line: string) => void;
  /** Environment of the child processes (PATH finds python3, make, c++, npm). */
  env: NodeJS.ProcessEnv;
}

/**
 * The cache folder: `LIONCTR_NATIVE_CACHE`, else `$XDG_CACHE_HOME/lionctr/native`, else
 * `~/.cache/lionctr/native`. Outside node_modules so that `npm ci` does not remove it.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIONCTR_NATIVE_CACHE) return env.LIONCTR_NATIVE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lionctr', 'native');
}

/** One build step: a name for messages and a body that returns what it did (or skipped). */
export interface Step {
  name: string;
  run: () => Promise<string>;
}

/** A failure inside a step: the error code and what went wrong, for `stepError` to locate. */
export class StepFailure extends Error {
  constructor(
    readonly code: LionctrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs `steps` in order, logging `native build step i/n (name): what it did [s]`.
 * @throws LionctrError with the failing step's code (LIONCTR_UNAVAILABLE unless the step
 *   says otherwise) and a message starting `native build step i/n (name) failed:`.
 */
export async function runSteps(steps: Step[], log: (line: string) => void): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const label = `native build step ${i + 1}/${steps.length} (${step.name})`;
    const t0 = performance.now();
    let did: string;
    try {
      did = await step.run();
    } catch (err) {
      const code = err instanceof StepFailure ? err.code : 'LIONCTR_UNAVAILABLE';
      throw new LionctrError(code, `${label} failed: ${(err as Error).message}`, { reason: step.name, cause: err });
    }
    log(`${label}: ${did} [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  }
}

/** What a finished child process left: exit status (null when killed) and its last output. */
export interface RunResult {
  status: number | null;
  /** stdout and stderr interleaved, the last 64 KiB. */
  output: string;
}

const KEEP_OUTPUT = 64 * 1024;

/**
 * Runs `cmd args` in `cwd` without a shell, collecting its output (stdout and stderr).
 * Never throws for a non-zero status: callers judge. @throws StepFailure when it cannot start
 * (e.g. ENOENT: the program is not on PATH).
 */
export function runChild(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      output += b.toString('utf8');
      if (output.length > 2 * KEEP_OUTPUT) output = output.slice(-KEEP_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new StepFailure('LIONCTR_UNAVAILABLE', `cannot run ${cmd}: ${err.message}`)));
    child.on('close', (status) => resolve({ status, output: output.slice(-KEEP_OUTPUT) }));
  });
}

/** The last `n` non-empty lines of `text`, joined by ` | ` for a one-line error message. */
export const lastLines = (text: string, n = 6): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');

/**
 * Runs a child and throws StepFailure with `what`, the exit status and the output's last lines
 * when it does not exit 0. @returns its output.
 */
export async function mustRun(
  what: string,
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const r = await runChild(cmd, args, cwd, env);
  if (r.status !== 0) {
    throw new StepFailure('LIONCTR_UNAVAILABLE', `${what} exited ${r.status ?? 'by signal'}: ${lastLines(r.output)}`);
  }
  return r.output;
}
