/**
 * A command started directly outlives the shell that started it (a daemon started from a deploy
 * script), while under an npm script (`npm start`) it stops gracefully when npm goes away
 * (src/cli/commands/lifecycle.ts shutdownSignal).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, freePort, sleep } from '../helpers/run-process.ts';

const BIN = join(import.meta.dirname, '../../bin/lionctr.mjs');
const dir = mkdtempSync(join(tmpdir(), 'lionctr-parent-exit-'));
const started: number[] = [];

/** Starts `lionctr serve` in the background of a shell that exits 5 s later (once serve runs); its pid. */
function serveFromShell(port: number, npmScript: boolean): number {
  const env: NodeJS.ProcessEnv = { ...process.env, LIONCTR_SERVE_WORKERS: '1', LIONCTR_SERVE_PORT: String(port) };
  delete env.npm_lifecycle_event;
  if (npmScript) env.npm_lifecycle_event = 'start';
  const cmd = `"${process.execPath}" "${BIN}" serve --export-dir "${dir}" >/dev/null 2>&1 & echo $!; sleep 5`;
  const pid = Number(execFileSync('sh', ['-c', cmd], { env, encoding: 'utf8' }).trim());
  started.push(pid);
  return pid;
}

afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the parent going away', () => {
  it('a directly started serve keeps running; under an npm script it stops', async () => {
    const direct = serveFromShell(await freePort(), false),
      npm = serveFromShell(await freePort(), true);
    let npmGone = false;
    for (let i = 0; i < 100 && !npmGone; i++) {
      await sleep(200);
      npmGone = !alive(npm);
    }
    expect(npmGone, 'the serve under an npm script stops when its parent is gone').toBe(true);
    await sleep(2500); // the watch polls every second
    expect(alive(direct), 'the directly started serve outlives its shell').toBe(true);
    process.kill(direct, 'SIGTERM');
    for (let i = 0; i < 100 && alive(direct); i++) await sleep(200);
    expect(alive(direct)).toBe(false);
  }, 60_000);
});
