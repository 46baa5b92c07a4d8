/**
 * `lionctr serve --workers 2` whose workers cannot start (the port is taken: EADDRINUSE): the
 * primary used to fork them again forever (backoff up to 30 s, never exiting). Now after
 * serve.workerStartFailures workers in a row exit before listening, it stops and exits non-zero
 * with the last worker's error, each failure logged.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeExport } from '../../src/train/export-writer.ts';
import { alive, freePort } from '../helpers/run-process.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const meta = { step: 5, examples: 2560, sourceOffsets: {}, watermarkMs: 0, metrics: {} };

describe('lionctr serve --workers 2 on a port in use', () => {
  let dir: string | undefined;
  let proc: ChildProcess | undefined;
  let taken: Server | undefined;
  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await new Promise<void>((r) => (taken ? taken.close(() => r()) : r()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives up after serve.workerStartFailures failed starts in a row: exit 1 with the error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-workers-start-'));
    const trained = await tinyTrainedModel(2);
    await writeExport(dir, trained.model, meta);
    trained.model.dispose();
    const port = await freePort();
    const server = createServer();
    taken = server;
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    // the default limit (5): the same command line as on a release without the limit
    const args = ['serve', '--workers', '2', '--port', String(port), '--export-dir', dir];
    const child = spawn('node', ['bin/lionctr.mjs', ...args], { env: cleanEnv });
    proc = child;
    let log = '';
    child.stdout?.on('data', (c) => {
      log += c;
    });
    child.stderr?.on('data', (c) => {
      log += c;
    });
    const pids = new Set<number>();
    child.stderr?.on('data', () => {
      for (const m of log.matchAll(/worker \d+ started \(pid (\d+)\)/g)) pids.add(Number(m[1]));
    });
    const t0 = Date.now();
    const code = await new Promise<number | null>((r) => {
      const t = setTimeout(() => r(-1), 90_000);
      child.once('exit', (c) => {
        clearTimeout(t);
        r(c);
      });
    });
    expect(code, `still running after 90 s (forked again and again); log:\n${log}`).toBe(1);
    // backoff 1, 2, 4, 8 s between the 5 failures, each start loading the export first
    expect(Date.now() - t0).toBeGreaterThan(5_000);
    const failed = [...log.matchAll(/worker \d+ \(pid \d+\) failed to start \(\d+ in a row\): [^\n]*EADDRINUSE/g)];
    expect(failed.length, log).toBe(5);
    expect(log).toMatch(/workers failed to start 5 times in a row \(serve\.workerStartFailures\)/);
    // the worker's error, as a single `serve` prints it: by each of the 5 workers and by the primary, and by a
    // worker restarted while the 5th was still loading (a busy machine: its backoff ended first), which the
    // primary then stopped ("exited with status 1" after the error it printed)
    const stopped = log.match(/worker \d+ \(pid \d+\) exited with status 1"/g)?.length ?? 0;
    const printed = log.match(/^lionctr: \[EADDRINUSE\] .*EADDRINUSE.*127\.0\.0\.1:\d+$/gm) ?? [];
    expect(printed.length, log).toBe(6 + stopped);
    expect([...pids].filter(alive)).toEqual([]);
  }, 120_000);
});
