/**
 * The suite's worker processes: lionctr on one tfjs backend (lionctr-worker.ts) or the PyTorch
 * peer (bench/peers/torch_ctr.py), each long-lived, one JSON command per line on stdin and one
 * JSON answer per line on stdout, so that runs of different runners can alternate without a
 * process start between them; the worker's peak RSS per run (Linux VmHWM, reset through
 * /proc/PID/clear_refs before each run); and the peer's venv, made when absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A worker process answering JSON commands. */
export class Worker {
  readonly name: string;
  private readonly proc: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string | null) => void) | undefined;
  private stderrTail = '';
  private exited = false;

  constructor(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.deliver(l));
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    this.proc.stdin!.on('error', () => {}); // a worker that died: send() answers {error}
    this.proc.on('exit', () => {
      this.exited = true;
      this.deliver(null);
    });
  }

  private deliver(line: string | null): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(line);
    } else if (line !== null) this.answers.push(line);
  }

  /** Sends one command and waits for its answer; {error} when the worker answers one or exits. */
  async send(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return { error: `${this.name} exited: ${this.stderrTail.trim().split('\n').pop()}` };
    this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const line =
      this.answers.shift() ?? (this.exited ? null : await new Promise<string | null>((r) => (this.waiting = r)));
    if (line === null) return { error: `${this.name} exited: ${this.stderrTail.trim().split('\n').pop()}` };
    try {
      return JSON.parse(line);
    } catch {
      return { error: `${this.name} answered "${line.slice(0, 200)}"` };
    }
  }

  /** Resets the process's peak RSS (Linux >= 4.0); false where it cannot. */
  resetPeakRss(): boolean {
    try {
      writeFileSync(`/proc/${this.proc.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Peak RSS since the last reset, MB (VmHWM), or NaN where /proc has none. */
  peakRssMb(): number {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    } catch {
      return NaN;
    }
  }

  /** Asks the worker to quit. */
  close(): void {
    if (this.proc.exitCode === null) this.proc.stdin!.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

/**
 * A lionctr worker on `backend` from the suite folder `here` (another checkout's for --compare),
 * named `name`: tfjs-wasm's threads `wasmThreads` (LIONCTR_WASM_THREADS); TensorFlow's intra-op
 * threads `tfThreads` (TF_NUM_INTRAOP_THREADS), or, when 'default', whatever the checkout's
 * product picks (README "Ingest thread"), as `lionctr train` runs it.
 */
export function lionctrWorker(
  backend: string,
  here: string,
  name = backend,
  wasmThreads = 1,
  tfThreads: number | 'default' = 'default',
  extraEnv: NodeJS.ProcessEnv = {},
): Worker {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extraEnv,
    LIONCTR_WASM_THREADS: String(wasmThreads),
    TF_CPP_MIN_LOG_LEVEL: '2',
  };
  if (tfThreads !== 'default') env.TF_NUM_INTRAOP_THREADS = String(tfThreads);
  return new Worker(name, process.execPath, ['--import', 'tsx', join(here, 'lionctr-worker.ts'), backend], env);
}

/** The PyTorch peer worker, with `threads` intra-op threads. */
export function peerWorker(venv: string, threads: number, here: string): Worker {
  const script = join(here, '..', 'peers', 'torch_ctr.py');
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), PYTHONWARNINGS: 'ignore' };
  return new Worker('torch', join(venv, 'bin', 'python'), [script, String(threads)], env);
}

/** The peer's packages. */
const PEER_PACKAGES = ['torch', 'numpy', 'pandas'];

/**
 * Makes the peer's venv (`python3 -m venv`, then pip from the configured index) unless it
 * already imports torch, numpy and pandas. Returns the torch version; throws an Error naming
 * the step that failed.
 */
export function ensureVenv(venv: string, log: (msg: string) => void): string {
  const py = join(venv, 'bin', 'python');
  const probe = () =>
    spawnSync(py, ['-c', 'import torch, numpy, pandas; print(torch.__version__)'], { encoding: 'utf8' });
  if (existsSync(py)) {
    const p = probe();
    if (p.status === 0) return p.stdout.trim();
  }
  log(`making the peer's venv ${venv} (python3 -m venv; pip install ${PEER_PACKAGES.join(' ')}): a few minutes`);
  const steps: [string, string, string[]][] = [
    ['python3 -m venv', 'python3', ['-m', 'venv', venv]],
    // --retries 0: an unreachable index is passed over at once, not after five back-offs
    ['pip install', join(venv, 'bin', 'pip'), ['install', '-q', '--retries', '0', ...PEER_PACKAGES]],
  ];
  for (const [what, cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.status !== 0) {
      const why = (r.stderr ?? String(r.error))
        .split('\n')
        .filter((l) => l && !l.startsWith('WARNING'))
        .pop();
      throw new Error(`making the peer's venv failed at "${what}": ${why ?? `exit ${r.status}`}`);
    }
  }
  const p = probe();
  if (p.status !== 0) throw new Error(`the peer's venv does not import torch/numpy/pandas: ${p.stderr.trim()}`);
  return p.stdout.trim();
}
