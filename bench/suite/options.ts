/**
 * The suite's flags (bench/suite.ts), parsed and checked: what runs, how long, where the JSON goes.
 */
import { parseArgs } from 'node:util';

/** What one suite invocation runs. */
export interface SuiteOptions {
  batches: number[];
  rows: number[];
  modes: ('ids' | 'raw')[];
  /** Raw mode: lionctr reads through the ingest thread (on, as `lionctr train`), on this thread (off), or both. */
  ingestThread: ('on' | 'off')[];
  backends: string[];
  threads: number;
  /**
   * tfjs-wasm's threads (LIONCTR_WASM_THREADS of the wasm workers), one wasm runner each: named
   * `wasm` for the count equal to `threads` (or the only one), `wasm <n>t` for the others.
   */
  wasmThreads: number[];
  /**
   * TensorFlow's intra-op threads (TF_NUM_INTRAOP_THREADS of the tensorflow workers), one runner
   * each: named `tensorflow` for the product's default count (absent: the product's default, not
   * set by the suite), `tensorflow <n>t` for the others.
   */
  tfThreads: (number | 'default')[];
  /**
   * Also runs each lionctr runner with glibc's malloc left untuned (LIONCTR_MALLOC_TUNE=off,
   * src/model/malloc-tunables.ts), as runner "<name> malloc-off" (README "Read-backs and page faults").
   */
  mallocUntuned: boolean;
  /** Seconds of timed training per run (after one warm-up step), at least minSteps, at most maxSteps. */
  seconds: number;
  minSteps: number;
  maxSteps: number;
  /** Instrumented replica steps per lionctr run (the step's split). */
  splitSteps: number;
  rounds: number;
  peer: boolean;
  auc: boolean;
  /** The Criteo-format sample (raw mode loops it; AUC trains on its first 8000 rows). */
  data: string;
  json: string;
  venv: string;
  /** Another checkout whose lionctr workers run beside this one's, as runners "<backend>@<its folder name>". */
  compare?: string;
  /** Reprints the table of a saved run's JSON (its `runs`, `auc`, `options.threads`), writes it again; runs nothing. */
  fromJson?: string;
}

export const USAGE = `usage: npm run bench [-- suite] [flags]     the suite: lionctr against a PyTorch peer
       npm run bench -- <name> [flags]         one benchmark of bench/ (--list lists them)
flags of the suite (defaults in brackets):
  --batches 512,4096,16384   batch sizes
  --rows 100000,10000000     table rows (ids mode: all slots together; the peer's hashed table in raw mode)
  --modes ids,raw            ids: pre-made integer ids (the step alone); raw: the Criteo file end to end
  --ingest-thread on         raw mode: lionctr reads via the ingest thread as \`lionctr train\` (on), on the
                             step's thread (off), or both (on,off: the off rows are runner "<backend> no-thread")
  --backends tensorflow,wasm lionctr's tfjs backends (each in its own worker process)
  --threads 2                torch.set_num_threads; lionctr's cores (ingest thread + TensorFlow's, see --tf-threads)
  --wasm-threads N[,M]       LIONCTR_WASM_THREADS of lionctr's wasm workers, one wasm runner each [--threads]
  --malloc-off               also run each lionctr runner with glibc's malloc untuned (LIONCTR_MALLOC_TUNE=off;
                             runner "<name> malloc-off"; README "Read-backs and page faults")
  --tf-threads N[,M]         TF_NUM_INTRAOP_THREADS of lionctr's tensorflow workers, one runner each ("tensorflow Nt");
                             default: unset, so lionctr picks it as \`lionctr train\` does (README "Ingest thread")
  --seconds 2                timed seconds per run, after one warm-up step
  --min-steps 3 --max-steps 400   steps per run at least / at most
  --split-steps 2            instrumented lionctr steps per run for the step's split
  --rounds 3                 rounds; each round runs every runner once per setting, interleaved (A B A B)
  --no-peer                  lionctr alone (no venv, no ratios)
  --no-auc                   skip the holdout AUC on the Criteo sample
  --data PATH                Criteo sample [../shared/data/criteo-10k/criteo_10k.tsv]
  --json FILE                where the JSON goes [bench-suite.json in the OS temp folder]
  --venv DIR                 the peer's venv, made when absent [bench/peers/.venv]
  --compare DIR              also runs the lionctr workers of the checkout DIR (e.g. main beside a branch),
                             interleaved with this one's, as runners "<backend>@<DIR's folder name>"
  --from-json FILE           runs nothing: the table, targets and AUC of a saved run's JSON, written again to --json`;

/** Parses the suite's argv; throws an Error whose message names the bad flag. */
export function parseSuiteArgs(argv: string[], tmp: string): SuiteOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      batches: { type: 'string', default: '512,4096,16384' },
      rows: { type: 'string', default: '100000,10000000' },
      modes: { type: 'string', default: 'ids,raw' },
      'ingest-thread': { type: 'string', default: 'on' },
      backends: { type: 'string', default: 'tensorflow,wasm' },
      threads: { type: 'string', default: '2' },
      'wasm-threads': { type: 'string' },
      'tf-threads': { type: 'string' },
      'malloc-off': { type: 'boolean', default: false },
      seconds: { type: 'string', default: '2' },
      'min-steps': { type: 'string', default: '3' },
      'max-steps': { type: 'string', default: '400' },
      'split-steps': { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      'no-peer': { type: 'boolean', default: false },
      'no-auc': { type: 'boolean', default: false },
      data: { type: 'string', default: '../shared/data/criteo-10k/criteo_10k.tsv' },
      json: { type: 'string', default: `${tmp}/bench-suite.json` },
      venv: { type: 'string', default: 'bench/peers/.venv' },
      'from-json': { type: 'string' },
      compare: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const ints = (flag: string, s: string, min: number): number[] =>
    s.split(',').map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v) || v < min) throw new Error(`--${flag} takes whole numbers >= ${min} (got "${x}")`);
      return v;
    });
  const one = (flag: string, s: string, min: number) => ints(flag, s, min)[0];
  const modes = values.modes.split(',');
  for (const m of modes) if (m !== 'ids' && m !== 'raw') throw new Error(`--modes takes ids and raw (got "${m}")`);
  const ingestThread = values['ingest-thread'].split(',');
  for (const t of ingestThread)
    if (t !== 'on' && t !== 'off') throw new Error(`--ingest-thread takes on and off (got "${t}")`);
  const backends = values.backends.split(',').filter(Boolean);
  for (const b of backends)
    if (!['tensorflow', 'wasm', 'cpu'].includes(b)) throw new Error(`--backends: no backend "${b}"`);
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds takes a positive number (got "${values.seconds}")`);
  return {
    batches: ints('batches', values.batches, 1),
    rows: ints('rows', values.rows, 39).sort((a, b) => a - b),
    modes: modes as ('ids' | 'raw')[],
    ingestThread: ingestThread as ('on' | 'off')[],
    backends,
    threads: one('threads', values.threads, 1),
    wasmThreads: ints('wasm-threads', values['wasm-threads'] ?? values.threads, 1),
    tfThreads: values['tf-threads'] ? ints('tf-threads', values['tf-threads'], 1) : ['default'],
    mallocUntuned: values['malloc-off'],
    seconds,
    minSteps: one('min-steps', values['min-steps'], 1),
    maxSteps: one('max-steps', values['max-steps'], 1),
    splitSteps: one('split-steps', values['split-steps'], 0),
    rounds: one('rounds', values.rounds, 1),
    peer: !values['no-peer'],
    auc: !values['no-auc'],
    data: values.data,
    json: values.json,
    venv: values.venv,
    ...(values['from-json'] ? { fromJson: values['from-json'] } : {}),
    ...(values.compare ? { compare: values.compare } : {}),
  };
}
