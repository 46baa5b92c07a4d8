/**
 * kill -9 of the export writer, many times (issue 11, "What it must show"): a child process
 * writes exports in a loop with the project's writers (test/helpers/export-writer-loop.ts) and
 * is killed with SIGKILL at random moments; after each kill (test/helpers/export-root-check.ts)
 * everything under the exports root under a version name is a complete version that loadExport
 * accepts, every `delta-<n>` in it reads back whole and chains on it in order, anything
 * half-written is only under `.tmp-*` / `<version>/.tmp-delta-*` (half-deleted: `.del-*`),
 * LATEST names a complete version, and a ModelRegistry polling the root the whole time serves
 * LATEST with its last delta, holding exactly the base + deltas on disk, and never logged a load
 * failure nor refused a delta.
 *
 * Kills are aimed in turn at a random moment of the writer's first exports, at the deletion of
 * an old version (the writer deletes slowly and says when it starts) and, for the delta writer,
 * inside the write of a delta.
 *
 * One run per writer kind (WRITER_KINDS: full exports; full exports each followed by deltas).
 * The next writer starts (and loads its modules) while the current one writes, so the kills
 * cost little time; it writes only once told to, so there is never more than one writer.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { checkRoot, modelDifference } from '../helpers/export-root-check.ts';
import { DELTAS_PER_FULL, WRITER_KINDS } from '../helpers/export-writer-loop.ts';
import { useFixture } from '../helpers/fixture.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { FAULT_SCALE } from '../helpers/fault-scale.ts';

const fx = useFixture();
/** Kills per writer kind. */
const KILLS = 20 * FAULT_SCALE; // npm run faults -- --scale N: more
/** Rows per slot of the writer's model (39 slots, dim 4): a version of about 1 MB, 42 files. */
const ROWS_PER_SLOT = 1000;
const WRITER = join(import.meta.dirname, '../helpers/export-writer-loop.ts');

/**
 * What a writer child prints: `ready`, then `begin <kind>` / `wrote <version> <kind>` per export
 * (kind full or delta), `rm <dir>` per deletion. Counted as `begin`, `wrote`, `rm` and per kind
 * (`begin delta`, `wrote full`, ...).
 */
type WriterEvent = 'begin' | 'wrote' | 'rm' | `${'begin' | 'wrote'} ${'full' | 'delta'}`;

/**
 * A writer child: `ready` once it can write, `go()` starts its loop, `at` the times (ms,
 * performance.now) of its events, `until(e, n)` resolves once it has printed `e` n times.
 */
interface Writer {
  ready: Promise<void>;
  at: Record<WriterEvent, number[]>;
  until(e: WriterEvent, n: number, timeoutMs: number): Promise<void>;
  go(): void;
  kill(): Promise<void>;
}

function startWriter(root: string, kind: string): Writer {
  const child = fx.track(
    spawn(process.execPath, ['--import', 'tsx', WRITER, root, kind, String(ROWS_PER_SLOT)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const at: Record<WriterEvent, number[]> = {
    begin: [],
    wrote: [],
    rm: [],
    'begin full': [],
    'begin delta': [],
    'wrote full': [],
    'wrote delta': [],
  };
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const ready = new Promise<void>((res, rej) => {
    child.once('exit', (code, sig) => rej(new Error(`writer exited (${code ?? sig}) before ready: ${err}`)));
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [e, a, b] = l.split(' ');
        const kind = e === 'begin' ? a : b;
        if (e === 'ready') res();
        else if (e in at) at[e as WriterEvent].push(performance.now());
        if (`${e} ${kind}` in at) at[`${e} ${kind}` as WriterEvent].push(performance.now());
      }
    });
  });
  ready.catch(() => {}); // awaited where used; a killed, never-used writer must not be unhandled
  return {
    ready,
    at,
    until: async (e, n, timeoutMs) => {
      const end = performance.now() + timeoutMs;
      while (at[e].length < n && performance.now() < end) await sleep(2);
    },
    go: () => child.stdin!.write('go\n'),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `registry` serves `version` (polled), or throws after `ms`. */
async function untilServed(registry: ModelRegistry, version: string, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (registry.current()?.version !== version) {
    if (performance.now() > end)
      throw new Error(`registry serves ${registry.current()?.version} after ${ms} ms, LATEST is ${version}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Median of `xs` (0 when empty). */
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] ?? 0;

/** Where kill `k` is aimed: a random moment of the first exports, a deletion, or inside a delta write. */
const aimOf = (kind: string, k: number) =>
  kind === 'delta' ? (['rm', 'delta', 'any', 'delta'] as const)[k % 4] : k % 2 ? 'any' : 'rm';

describe.each(WRITER_KINDS)('kill -9 of the %s export writer', (kind) => {
  it(
    `${KILLS} kills at random moments: no partial version or delta is ever visible or loaded`,
    async () => {
      const root = fx.tempDir('export-kill');
      const logged: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (s: string) => void logged.push(s) });
      const registry = new ModelRegistry(root, logger, 0.05);
      const failures: string[] = [];
      const applied: string[] = [];
      registry.on('loadFailed', (e) => failures.push(`${e.version}: ${e.message}`));
      registry.on('deltaFailed', (e) => failures.push(`${e.base}/delta-${e.seq}: ${e.reason}: ${e.message}`));
      registry.on('deltaApplied', (e) => applied.push(e.version));
      registry.start();
      const rnd = mulberry32(11);
      try {
        // how long an export takes here (median so far, ms, all and deltas alone): the scale of the kill delays
        const durations: number[] = [],
          deltaDurations: number[] = [];
        let midWrite = 0,
          midDelta = 0,
          midPrune = 0,
          tmpsBefore = 0,
          exports = 0,
          deltas = 0,
          waited = 0;
        const delsSeen = new Set<string>(),
          deltaTmpsSeen = new Set<string>();
        const tStart = performance.now();
        let cur: Writer | null = startWriter(root, kind);
        for (let k = 0; k < KILLS; k++) {
          // the next writer loads its modules while this one writes
          const next = k < KILLS - 1 ? startWriter(root, kind) : null;
          const tw = performance.now();
          await cur!.ready;
          waited += performance.now() - tw;
          cur!.go();
          const aim = aimOf(kind, k);
          if (k === 0) {
            // the first writer measures the export times (two bases and their deltas for the delta writer)
            await cur!.until('wrote', kind === 'delta' ? 2 * (DELTAS_PER_FULL + 1) : 3, 60_000);
          } else if (aim === 'any') {
            // a random moment of its first exports: inside a write, mostly
            await cur!.until('begin', 1, 60_000);
            await sleep(rnd() * 3 * median(durations));
          } else if (aim === 'delta') {
            // inside the write of one of the first deltas on its first full export
            await cur!.until('begin delta', 1 + Math.floor(rnd() * DELTAS_PER_FULL), 60_000);
            await sleep(rnd() * 1.2 * median(deltaDurations));
          } else {
            // inside the deletion of an old version, which ends each (full) export once the root holds
            // more than 3 (the writer deletes slowly and says when it starts; see its module doc)
            await cur!.until('rm', 1, 60_000);
            await sleep(rnd() * 40);
          }
          await cur!.kill();
          const { begin, wrote } = cur!.at;
          exports += wrote.length;
          deltas += cur!.at['wrote delta'].length;
          wrote.forEach((t, i) => {
            durations.push(t - begin[i]);
          });
          cur!.at['wrote delta'].forEach((t, i) => {
            deltaDurations.push(t - cur!.at['begin delta'][i]);
          });
          const s = await checkRoot(root);
          try {
            if (s.tmps > tmpsBefore) midWrite++;
            tmpsBefore = s.tmps;
            if (s.dels.some((d) => !delsSeen.has(d))) midPrune++;
            for (const d of s.dels) delsSeen.add(d);
            if (s.deltaTmps.some((d) => !deltaTmpsSeen.has(d))) midDelta++;
            for (const d of s.deltaTmps) deltaTmpsSeen.add(d);
            if (s.expected && s.model) {
              // served: LATEST with its last complete delta, exactly the base + deltas on disk
              await untilServed(registry, s.expected);
              expect(await modelDifference(registry.current()!.model, s.model)).toBe(0);
            }
          } finally {
            s.model?.dispose();
          }
          cur = next;
        }
        console.log(
          `${kind}: ${KILLS} kills (an export takes ${median(durations).toFixed(0)} ms here, a delta ` +
            `${median(deltaDurations).toFixed(0)} ms): ${midWrite} inside a full export (left a .tmp-*), ` +
            `${midDelta} inside a delta (left a .tmp-delta-*), ${midPrune} inside a deletion (left a .del-*), ` +
            `${exports} exports completed (${deltas} deltas; ${applied.length} deltas applied by serving); ` +
            `${((performance.now() - tStart) / 1000).toFixed(1)} s, ${(waited / 1000).toFixed(1)} s of it ` +
            'waiting for writers to start',
        );
        expect(failures).toEqual([]);
        expect(logged.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
        // the kills did land where they were aimed (at least once each: the shares depend on the machine's load)
        expect(midWrite).toBeGreaterThanOrEqual(1);
        expect(midPrune).toBeGreaterThanOrEqual(1);
        if (kind === 'delta') {
          expect(midDelta).toBeGreaterThanOrEqual(1);
          expect(applied.length).toBeGreaterThanOrEqual(KILLS / 2);
        }
        expect(registry.current()).toBeDefined();
      } finally {
        registry.stop();
      }
    },
    300_000 * FAULT_SCALE,
  );
});
