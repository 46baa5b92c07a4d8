/**
 * kill -9 of the export writer, many times (issue 11, "What it must show"): a child process
 * writes exports in a loop with the project's writer (test/helpers/export-writer-loop.ts) and
 * is killed with SIGKILL at random moments; after each kill, everything under the exports root
 * under a version name is a complete version that loadExport accepts, anything half-written is
 * only under `.tmp-*` (half-deleted: `.del-*`), LATEST names a complete version, and a ModelRegistry polling the root
 * the whole time serves it and never logged a load failure.
 *
 * Every other kill is aimed at the deletion of an old version (the writer deletes slowly and
 * says when it starts), which must never leave part of a version visible either.
 *
 * One run per writer kind (WRITER_KINDS: full exports today; deltas are one more kind there).
 * The next writer starts (and loads its modules) while the current one writes, so the kills
 * cost little time; it writes only once told to, so there is never more than one writer.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadExport, readLatest } from '../../src/model/export-reader.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { WRITER_KINDS } from '../helpers/export-writer-loop.ts';
import { useFixture } from '../helpers/fixture.ts';
import { mulberry32 } from '../helpers/prng.ts';

const fx = useFixture();
/** Kills per writer kind. */
const KILLS = 20;
/** Rows per slot of the writer's model (39 slots, dim 4): a version of about 1 MB, 42 files. */
const ROWS_PER_SLOT = 1000;
const WRITER = join(import.meta.dirname, '../helpers/export-writer-loop.ts');

/** What a writer child prints: `ready`, then `begin` / `wrote <version>` per export, `rm <dir>` per deletion. */
type WriterEvent = 'begin' | 'wrote' | 'rm';

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
  const at: Record<WriterEvent, number[]> = { begin: [], wrote: [], rm: [] };
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
        const e = l.split(' ')[0];
        if (e === 'ready') res();
        else if (e in at) at[e as WriterEvent].push(performance.now());
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

/**
 * What the root holds after a kill. Throws when an entry is neither a version, LATEST, the
 * LATEST temp file nor a `.tmp-*` dir, or when a version does not load (a partial version).
 */
async function checkRoot(
  root: string,
): Promise<{ versions: string[]; tmps: number; dels: string[]; latest: string | null }> {
  const versions: string[] = [],
    dels: string[] = [];
  let tmps = 0;
  for (const e of await readdir(root)) {
    if (/^\d+$/.test(e)) versions.push(e);
    else if (e.startsWith('.tmp-')) tmps++;
    else if (e.startsWith('.del-')) dels.push(e);
    else expect(['LATEST', '.LATEST.tmp'], `unexpected entry ${e} in the exports root`).toContain(e);
  }
  for (const v of versions) {
    const { model } = await loadExport(join(root, v)); // throws on a partial version
    model.dispose();
  }
  const latest = await readLatest(root);
  if (latest !== null) expect(versions).toContain(latest);
  return { versions, tmps, dels, latest };
}

/** Resolves once `registry` serves `version` (polled), or throws after `ms`. */
async function untilServed(registry: ModelRegistry, version: string, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (registry.current()?.version !== version) {
    if (performance.now() > end)
      throw new Error(`registry serves ${registry.current()?.version} after ${ms} ms, LATEST is ${version}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(WRITER_KINDS)('kill -9 of the %s export writer', (kind) => {
  it(`${KILLS} kills at random moments: no partial version is ever visible or loaded`, async () => {
    const root = fx.tempDir('export-kill');
    const logged: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logged.push(s) });
    const registry = new ModelRegistry(root, logger, 0.05);
    const failures: string[] = [];
    registry.on('loadFailed', (e) => failures.push(`${e.version}: ${e.message}`));
    registry.start();
    const rnd = mulberry32(11);
    try {
      // how long an export takes here (median so far, ms): the scale of the random kill delays
      const durations: number[] = [];
      const T = () => [...durations].sort((x, y) => x - y)[durations.length >> 1];
      let midWrite = 0,
        midPrune = 0,
        tmpsBefore = 0,
        exports = 0,
        waited = 0;
      const delsSeen = new Set<string>();
      const tStart = performance.now();
      let cur: Writer | null = startWriter(root, kind);
      for (let k = 0; k < KILLS; k++) {
        // the next writer loads its modules while this one writes
        const next = k < KILLS - 1 ? startWriter(root, kind) : null;
        const tw = performance.now();
        await cur!.ready;
        waited += performance.now() - tw;
        cur!.go();
        if (k === 0) {
          await cur!.until('wrote', 3, 60_000); // the first writer measures T
        } else if (k % 2) {
          // a random moment of its first exports: inside a write, mostly
          await cur!.until('begin', 1, 60_000);
          await sleep(rnd() * 3 * T());
        } else {
          // inside the deletion of an old version, which ends each export once the root holds
          // more than 3 (the writer deletes slowly and says when it starts; see its module doc)
          await cur!.until('rm', 1, 60_000);
          await sleep(rnd() * 40);
        }
        await cur!.kill();
        const { begin, wrote } = cur!.at;
        exports += wrote.length;
        wrote.forEach((t, i) => {
          durations.push(t - begin[i]);
        });
        const { tmps, dels, latest } = await checkRoot(root);
        if (tmps > tmpsBefore) midWrite++;
        tmpsBefore = tmps;
        if (dels.some((d) => !delsSeen.has(d))) midPrune++;
        for (const d of dels) delsSeen.add(d);
        if (latest) await untilServed(registry, latest);
        cur = next;
      }
      console.log(
        `${kind}: ${KILLS} kills (an export takes ${T().toFixed(0)} ms here): ${midWrite} inside a write ` +
          `(left a .tmp-*), ${midPrune} inside a deletion (left a .del-*), ${exports} exports completed; ` +
          `${((performance.now() - tStart) / 1000).toFixed(1)} s, ${(waited / 1000).toFixed(1)} s of it ` +
          'waiting for writers to start',
      );
      expect(failures).toEqual([]);
      expect(logged.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
      // the kills did land where they were aimed (at least once each: the shares depend on the machine's load)
      expect(midWrite).toBeGreaterThanOrEqual(1);
      expect(midPrune).toBeGreaterThanOrEqual(1);
      expect(registry.current()).toBeDefined();
    } finally {
      registry.stop();
    }
  }, 300_000);
});
