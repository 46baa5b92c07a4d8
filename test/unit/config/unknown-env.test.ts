/**
 * A misspelt LIONCTR_* environment variable stops start-up (src/config/unknown-env.ts), as the same
 * typo in a config file or --set does; config keys' variables, renamed ones (reported by the loader)
 * and the process-level variables pass.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFrom } from '../../../src/config/schema.ts';
import { LionctrError } from '../../../src/errors.ts';

const BIN = join(import.meta.dirname, '../../../bin/lionctr.mjs');
const load = (env: Record<string, string>) => () => loadConfigFrom({ env });

describe('unknown LIONCTR_* environment variables', () => {
  it('a misspelt key variable is refused, naming it and the nearest key', () => {
    expect(load({ LIONCTR_SERVE_WORKERZ: '2' })).toThrowError(LionctrError);
    expect(load({ LIONCTR_SERVE_WORKERZ: '2' })).toThrowError(
      /unknown environment variable LIONCTR_SERVE_WORKERZ.*did you mean LIONCTR_SERVE_WORKERS \(serve\.workers\)/,
    );
    expect(load({ LIONCTR_TRAIN_BATCHSIZE: '5' })).toThrowError(/LIONCTR_TRAIN_BATCH_SIZE \(train\.batchSize\)/);
    expect(load({ LIONCTR_NO_SUCH_THING_AT_ALL: '1' })).toThrowError(/unknown environment variable LIONCTR_NO_SUCH/);
  });

  it("keys' variables, process-level variables and other prefixes pass", () => {
    const c = load({
      LIONCTR_SERVE_PORT: '8123',
      LIONCTR_BACKEND: 'wasm',
      LIONCTR_PYTHON: '/usr/bin/python3',
      LIONCTR_TEST_KAFKA: '0',
      LIONCTRX: '1',
      HOME: '/root',
    })();
    expect(c.config.serve.port).toBe(8123);
  });

  it('the CLI exits 2 before doing anything', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--export-dir', '/nonexistent'], {
      encoding: 'utf8',
      env: { ...process.env, LIONCTR_SERVE_WORKERZ: '2' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/LIONCTR_BAD_CONFIG.*unknown environment variable LIONCTR_SERVE_WORKERZ/);
  });
});
