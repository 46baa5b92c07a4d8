/**
 * The `lionctr` command tree (src/cli/commands.ts: run, train, serve, eval, ...) does not load
 * ioredis: src/store/redis/open-cluster.ts imports it only when a Redis row store is opened.
 * Loading it slows every string method call of the process's optimized code (its `class
 * VerbatimString extends String`; open-cluster.ts's module note has the figures), which made the
 * predict fast path of `lionctr serve` ~6x slower. A child process imports the command tree and
 * counts ioredis's files among the loaded CommonJS modules, and asks V8 whether String.prototype
 * still has fast properties (on Node 20 ioredis leaves it in dictionary mode, the state that
 * slows the calls); it then imports ioredis itself, which must be counted (so the check can fail).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = `
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const ioredisFiles = () => Object.keys(cache).filter((k) => k.includes('/node_modules/ioredis/')).length;
await import('./src/cli/commands.ts');
const tree = ioredisFiles();
const stringProtoFast = new Function('return %HasFastProperties(String.prototype)')();
await import('ioredis');
console.log(JSON.stringify({ tree, stringProtoFast, control: ioredisFiles() }));
`;

describe('ioredis is loaded lazily', () => {
  it('importing the command tree loads no ioredis file (importing ioredis does)', () => {
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', SCRIPT],
      // the repository root, which the script's relative imports start from
      { cwd: fileURLToPath(new URL('../../../', import.meta.url)), encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      tree: number;
      stringProtoFast: boolean;
      control: number;
    };
    expect(got.control).toBeGreaterThan(0);
    expect(got.tree).toBe(0);
    expect(got.stringProtoFast).toBe(true);
  });
});
