/**
 * The error catalogue (src/errors.ts), as fastify's test/internals/errors.test.js checks
 * lib/errors.js: every code once, with an HTTP status and an exit status; every code the
 * source uses is catalogued; the prediction endpoint and the CLI map codes by the table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fatal } from '../../src/cli/common.ts';
import { configSchema } from '../../src/config/schema.ts';
import { schemaKeys } from '../../src/config/keys.ts';
import {
  ERRORS,
  LionctrError,
  exitStatusOf,
  httpStatusOf,
  isErrorCode,
  type LionctrErrorCode,
} from '../../src/errors.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import type { ModelRegistry } from '../../src/serve/model-registry.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;
const CODES = Object.keys(ERRORS) as LionctrErrorCode[];

/** Every .ts file under src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The LIONCTR_* strings that name env vars, not error codes: each config key's (mechanical, from
 * its path, src/config/keys.ts, and any former name it still refuses) and the few read outside
 * the config (the native build's cache folder).
 */
function configEnvNames(schema: object): Set<string> {
  const out = new Set<string>(['LIONCTR_NATIVE_CACHE']);
  for (const k of schemaKeys(schema)) {
    out.add(k.env);
    if (k.formerEnv) out.add(k.formerEnv);
  }
  return out;
}

describe('the error catalogue', () => {
  it('declares each code once, named LIONCTR_*', () => {
    const text = readFileSync(join(SRC, 'errors.ts'), 'utf8');
    const table = text.slice(text.indexOf('export const ERRORS'), text.indexOf('satisfies Record'));
    const declared = [...table.matchAll(/^\s*(\w+): \{/gm)].map((m) => m[1]);
    expect(declared).toEqual(CODES);
    expect(new Set(declared).size).toBe(declared.length);
    for (const code of CODES) expect(code).toMatch(/^LIONCTR_[A-Z_]+$/);
  });

  it('gives every code an HTTP status, an exit status and a description', () => {
    for (const code of CODES) {
      const e = ERRORS[code];
      expect(Number.isInteger(e.status) && e.status >= 400 && e.status <= 599, code).toBe(true);
      expect([1, 2, 3], code).toContain(e.exit);
      expect(e.description.length, code).toBeGreaterThan(10);
      expect(new LionctrError(code, 'x').status).toBe(e.status);
      expect(new LionctrError(code, 'x').exitCode).toBe(e.exit);
    }
  });

  it('keeps the statuses and exit statuses users saw before the table', () => {
    // before: the endpoint mapped these four and the CLI exited 2 for config and input only
    expect(ERRORS.LIONCTR_BAD_REQUEST.status).toBe(400);
    expect(ERRORS.LIONCTR_NOT_FOUND.status).toBe(404);
    expect(ERRORS.LIONCTR_METHOD_NOT_ALLOWED.status).toBe(405);
    expect(ERRORS.LIONCTR_NOT_READY.status).toBe(503);
    expect(CODES.filter((c) => ERRORS[c].exit === 2).sort()).toEqual(['LIONCTR_BAD_CONFIG', 'LIONCTR_BAD_INPUT']);
    // since issue 17: an unreachable broker (produce) has its own exit status
    expect(CODES.filter((c) => ERRORS[c].exit === 3)).toEqual(['LIONCTR_BROKER_UNAVAILABLE']);
  });

  it('has every code that src/ uses', () => {
    const env = configEnvNames(configSchema);
    const used = new Map<string, string>();
    for (const f of sourceFiles()) {
      for (const m of readFileSync(f, 'utf8').matchAll(/['"`](LIONCTR_[A-Z0-9_]+)['"`]/g)) {
        if (!env.has(m[1])) used.set(m[1], f.slice(SRC.length));
      }
    }
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter(([code]) => !isErrorCode(code)).map(([code, f]) => `${code} (src/${f})`);
    expect(missing).toEqual([]);
  });
});

describe('the prediction endpoint answers with the status of the table', () => {
  /** A server whose model raises `err` while scoring a request. */
  const serverRaising = (err: unknown) => {
    const served = {
      version: '1',
      manifest: {},
      featurizer: {
        schema: { numeric: [], categorical: [] },
        fromInstances: () => {
          throw err;
        },
        // the predict fast path (src/serve/json-fast.ts) featurizes with servingBatch
        servingBatch: () => {
          throw err;
        },
      },
    };
    const registry = {
      lastError: undefined,
      current: () => served,
      acquire: () => ({ version: '1', value: served, release: () => {} }),
    } as unknown as ModelRegistry;
    return createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
  };
  const predict = async (err: unknown) => {
    const app = serverRaising(err);
    try {
      const r = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances: [{}] } });
      return { status: r.statusCode, body: r.json() as { code: string; error: string } };
    } finally {
      await app.close();
    }
  };

  it.each(CODES)('%s', async (code) => {
    const r = await predict(new LionctrError(code, `raised ${code}`));
    expect(r.status).toBe(ERRORS[code].status);
    expect(r.body).toMatchObject({ code, error: `raised ${code}` });
  });

  it('keeps a 4xx statusCode of a framework error; anything else is 500 LIONCTR_INTERNAL', async () => {
    const tooLarge = Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(await predict(tooLarge)).toEqual({
      status: 413,
      body: {
        code: 'LIONCTR_BODY_TOO_LARGE',
        error: 'too large (limit 8388608 bytes, serve.maxBodyBytes)',
        where: 'body',
      },
    });
    const bug = await predict(new Error('a bug'));
    expect(bug).toEqual({ status: 500, body: { code: 'LIONCTR_INTERNAL', error: 'a bug' } });
    expect((await predict(Object.assign(new Error('x'), { statusCode: 503 }))).status).toBe(500);
    expect(httpStatusOf(null)).toBe(500);
  });

  it('answers an unknown route with the status of LIONCTR_NOT_FOUND', async () => {
    const app = serverRaising(new Error('unused'));
    const r = await app.inject({ method: 'GET', url: '/nowhere' });
    await app.close();
    expect(r.statusCode).toBe(ERRORS.LIONCTR_NOT_FOUND.status);
    expect(r.json()).toMatchObject({ code: 'LIONCTR_NOT_FOUND' });
  });
});

describe('the CLI exits with the exit status of the table', () => {
  /** What fatal(err) writes to stderr and the status it exits with. */
  const runFatal = (err: unknown) => {
    let written = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      written += String(s);
      return true;
    });
    const exitThrows = (c?: number) => {
      throw new Error(`exit ${c}`);
    };
    const exit = vi.spyOn(process, 'exit').mockImplementation(exitThrows as never);
    try {
      expect(() => fatal(err)).toThrow(/^exit \d$/);
      return { status: exit.mock.calls[0][0], written };
    } finally {
      vi.restoreAllMocks();
    }
  };

  it.each(CODES)('%s', (code) => {
    expect(runFatal(new LionctrError(code, 'wrong', { where: 'k' }))).toEqual({
      status: ERRORS[code].exit,
      written: `lionctr: [${code}] wrong (at k)\n`,
    });
  });

  it("reads the code, not the class (a worker thread's error), and exits 1 for anything else", () => {
    expect(runFatal(Object.assign(new Error('from the worker'), { code: 'LIONCTR_BAD_CONFIG' })).status).toBe(2);
    expect(runFatal(new Error('plain'))).toEqual({ status: 1, written: 'lionctr: plain\n' });
    expect(runFatal(Object.assign(new Error('fs'), { code: 'ENOENT' })).status).toBe(1);
    expect(exitStatusOf(undefined)).toBe(1);
  });
});
