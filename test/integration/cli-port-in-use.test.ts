/**
 * `lionctr run --port <a port in use>` and `lionctr serve --workers 1 --port <...>`: the fatal
 * error is the last line of stderr, with no log line after it. The process logger (pino) buffers
 * its lines and wrote them at exit, after fatal()'s line; `run` also warned about a missing export
 * dir after the port error.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));

/** stderr and the exit status of `node bin/lionctr.mjs ...args` (no LIONCTR_* variables). */
function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['bin/lionctr.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: cleanEnv });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

describe('a port in use', () => {
  let dir: string;
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-port-'));
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => blocker.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  for (const command of ['run', 'serve'])
    it(`${command}: the fatal error is the last line, no export-dir warning`, async () => {
      const extra = command === 'serve' ? ['--workers', '1'] : [];
      const { code, stderr } = await cli([
        command,
        '--port',
        String(port),
        '--export-dir',
        join(dir, 'none'),
        ...extra,
      ]);
      expect(code, stderr).toBe(1);
      const lines = stderr.trimEnd().split('\n');
      expect(lines.at(-1), stderr).toMatch(/^lionctr: \[EADDRINUSE\] .*EADDRINUSE.*127\.0\.0\.1:\d+$/);
      expect(
        lines.filter((l) => l.startsWith('lionctr: ')),
        stderr,
      ).toHaveLength(1);
      expect(stderr).not.toMatch(/does not exist \(yet\)/);
    }, 90_000);
});
