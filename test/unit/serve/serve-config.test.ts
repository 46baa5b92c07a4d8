/**
 * The `serve` config section and the endpoint flags: serve.host / --host, serve.modelName /
 * --model-name / LIONCTR_SERVE_MODEL_NAME, serve.keepVersions, serve.labels (JSON from env).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfigOf } from '../../../src/config/loader.ts';
import { endpointOptions, serveFlags } from '../../../src/cli/commands/flags.ts';
import { serveConfig } from '../../../src/serve/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'lionctr-serve-config-'));
const load = (sets: string[] = []) => loadConfigOf({ serve: serveConfig }, [], sets, join(dir, 'absent.json')).serve;
const ENVS = ['LIONCTR_SERVE_MODEL_NAME', 'LIONCTR_SERVE_LABELS', 'LIONCTR_SERVE_HOST', 'LIONCTR_SERVE_KEEP_VERSIONS'];
afterEach(() => {
  for (const e of ENVS) delete process.env[e];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve config', () => {
  it('defaults: loopback, model "ctr", two versions, no labels', () => {
    expect(load()).toMatchObject({ host: '127.0.0.1', modelName: 'ctr', keepVersions: 1, labels: {} });
  });

  it('reads the model name, host, version policy and labels (JSON) from the environment', () => {
    process.env.LIONCTR_SERVE_MODEL_NAME = 'clicks';
    process.env.LIONCTR_SERVE_HOST = '0.0.0.0';
    process.env.LIONCTR_SERVE_KEEP_VERSIONS = '3';
    process.env.LIONCTR_SERVE_LABELS = '{"stable": "1700000000000", "canary": 1700000060000}';
    expect(load()).toMatchObject({
      host: '0.0.0.0',
      modelName: 'clicks',
      keepVersions: 3,
      labels: { stable: '1700000000000', canary: 1700000060000 },
    });
  });

  it('refuses names and labels that cannot sit in a TF Serving URL, and versions that are not numbers', () => {
    const err = (sets: string[]) => {
      try {
        load(sets);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(['serve.modelName="a:b"'])).toMatch(/serve\.modelName: must be a non-empty name without/);
    expect(err(['serve.labels={"a/b": "1"}'])).toMatch(/serve\.labels: label "a\/b" must be/);
    expect(err(['serve.labels={"stable": "latest"}'])).toMatch(/serve\.labels: stable: must be a version number/);
    expect(err(['serve.keepVersions=0'])).toMatch(/serve\.keepVersions: must be an integer >= 1/);
  });

  it('--host and --model-name (run and serve) become serve.host and serve.modelName', () => {
    const cmd = endpointOptions(new Command('serve')).exitOverride();
    cmd.parse(['--host', '0.0.0.0', '--model-name', 'clicks', '--port', '9000'], { from: 'user' });
    const sets = serveFlags(cmd.opts());
    expect(sets).toEqual(['serve.port=9000', 'serve.host="0.0.0.0"', 'serve.modelName="clicks"']);
    expect(load(sets)).toMatchObject({ host: '0.0.0.0', modelName: 'clicks', port: 9000 });
  });
});
