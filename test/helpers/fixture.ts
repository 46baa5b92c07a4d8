/**
 * One fixture for what a test leaves on the machine: temp dirs and child processes. Call
 * `useFixture()` once at the top of a test file; after each test, child processes still
 * running are killed (SIGKILL, awaited) and then the temp dirs are removed, so a suite
 * leaves nothing in the OS temp dir, also when a test fails or times out.
 *
 *   const fx = useFixture();
 *   it('...', async () => { const dir = fx.tempDir('crash'); const c = fx.track(spawn(...)); });
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Temp dirs and child processes of the running test (see the module doc). */
export interface Fixture {
  /** A fresh dir `<OS temp dir>/lionctr-<prefix>-XXXXXX`, removed after the test. */
  tempDir(prefix: string): string;
  /** Tracks `child`: killed after the test when still running. Returns it. */
  track<C extends ChildProcess>(child: C): C;
}

/** Kills `c` (SIGKILL) unless it has exited, and resolves once it has. */
async function killAndWait(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((res) => c.once('exit', () => res()));
  c.kill('SIGKILL');
  await exited;
}

/** The fixture of the calling test file; registers its afterEach clean-up. */
export function useFixture(): Fixture {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    // children first: one still writing into a dir could recreate files in it
    await Promise.all(children.splice(0).map(killAndWait));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    tempDir(prefix) {
      const d = mkdtempSync(join(tmpdir(), `lionctr-${prefix}-`));
      dirs.push(d);
      return d;
    },
    track(child) {
      children.push(child);
      return child;
    },
  };
}
