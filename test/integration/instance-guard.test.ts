/**
 * Bodies of many keys (issue 17: "one 8 MB instance with 937k distinct keys blocked the event loop
 * for ~1 s"): refused with 400 before JSON.parse sees them (src/serve/instance-guard.ts), within
 * milliseconds, whether the keys are in one instance or spread over many; valid requests of the
 * Criteo schema (39 slots), up to 10,000 instances, keep their answers.
 */
import { loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../src/features/featurizer.ts';
import { criteoSlots } from '../../src/features/schema.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { checkKeyCounts, KEY_MARGIN, MAX_DEPTH } from '../../src/serve/instance-guard.ts';
import type { ModelRegistry } from '../../src/serve/model-registry.ts';

const schema = { ...criteoSlots(), embeddingDim: 4 };
const SLOTS = schema.categorical.length + schema.numeric.length;

/** A server over one fake version of the Criteo schema whose model scores 0.5 everywhere. */
function server() {
  const featurizer = new Featurizer(schema);
  const served = {
    version: '7',
    featurizer,
    model: { score: async (b: { size: number }) => new Float32Array(b.size) },
  };
  const registry = {
    current: () => served,
    acquire: () => ({ version: '7', value: served, release: () => {} }),
    lastError: undefined,
  } as unknown as ModelRegistry;
  return createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
}

/** `n` instances with every Criteo slot set (categorical slots take strings, as TF Serving's DT_STRING). */
const instances = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    Object.fromEntries([...schema.categorical.map((s) => [s, String(i)]), ...schema.numeric.map((s) => [s, i])]),
  );

describe('bodies of many keys', () => {
  const app = server();
  const post = async (payload: string) => {
    const t0 = performance.now();
    const r = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload });
    return { status: r.statusCode, body: r.json(), ms: performance.now() - t0 };
  };

  it('one instance of 800k distinct keys (7.5 MB), or 15k instances of 40 new names each: 400 at once', async () => {
    const keys = Array.from({ length: 800_000 }, (_, i) => `"x${i.toString(36)}":0`);
    const one = await post(`{"instances":[{${keys.join(',')}}]}`);
    const spread: string[] = [];
    for (let i = 0; i < 15_000; i++) spread.push(`{${keys.slice(40 * i, 40 * i + 40).join(',')}}`);
    const many = await post(`{"instances":[${spread.join(',')}]}`);
    console.log(
      `many keys: one instance of 800k keys answered in ${one.ms.toFixed(1)} ms, 15k instances of 40 new keys ` +
        `in ${many.ms.toFixed(1)} ms (load average ${loadavg()[0].toFixed(2)})`,
    );
    for (const r of [one, many]) {
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'LIONCTR_BAD_REQUEST', where: 'body' });
      expect(r.body.error).toMatch(
        new RegExp(
          `^JSON object: the request names more than ${SLOTS + KEY_MARGIN} distinct keys .*model has ${SLOTS}`,
        ),
      );
      // JSON.parse alone takes about 1-6 s for such bodies (module doc); the guard, milliseconds
      expect(r.ms).toBeLessThan(500);
    }
  });

  it('an object with more keys than slots + margin (one name repeated) is refused; up to it, parsed', async () => {
    const rep = (n: number) => `{"instances":[{${Array.from({ length: n }, () => '"C1":"a"').join(',')}}]}`;
    const over = await post(rep(SLOTS + KEY_MARGIN + 1));
    expect(over.status).toBe(400);
    const max = SLOTS + KEY_MARGIN;
    expect(over.body.error).toBe(
      `JSON object: has more than ${max} keys (object at byte 14), but the model has ${SLOTS} named inputs`,
    );
    expect((await post(rep(SLOTS + KEY_MARGIN))).status).toBe(200);
  });

  it('a body of 4 million nested arrays (8 MB) is refused before parsing; MAX_DEPTH levels are parsed', async () => {
    const deep = await post(`${'['.repeat(4_000_000)}${']'.repeat(4_000_000)}`);
    console.log(`deep body: answered in ${deep.ms.toFixed(1)} ms (load average ${loadavg()[0].toFixed(2)})`);
    expect(deep.status).toBe(400);
    expect(deep.body).toMatchObject({ code: 'LIONCTR_BAD_REQUEST', where: 'body' });
    expect(deep.body.error).toBe(
      `JSON body: nested deeper than ${MAX_DEPTH} arrays and objects (at byte ${MAX_DEPTH}); a request needs at most 5`,
    );
    // JSON.parse alone takes ~2 s on it (module doc)
    expect(deep.ms).toBeLessThan(500);
    const nested = (d: number) => `{"instances":[{"C1":${'['.repeat(d - 3)}1${']'.repeat(d - 3)}}]}`;
    expect(() => checkKeyCounts(nested(MAX_DEPTH), SLOTS)).not.toThrow();
    expect(() => checkKeyCounts(nested(MAX_DEPTH + 1), SLOTS)).toThrow(/nested deeper than/);
  });

  it('valid requests pass: 10,000 instances, columnar inputs, classify with context and keys in strings', async () => {
    const big = await post(JSON.stringify({ instances: instances(10_000) }));
    expect(big.status).toBe(200);
    expect(big.body.predictions).toHaveLength(10_000);
    const cols = Object.fromEntries([
      ...schema.categorical.map((s) => [s, ['1', '2']]),
      ...schema.numeric.map((s) => [s, [1, 2]]),
    ]);
    expect((await post(JSON.stringify({ inputs: cols, signature_name: 'serving_default' }))).status).toBe(200);
    const r = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:classify',
      payload: { context: { C2: 'x' }, examples: instances(3) },
    });
    expect(r.statusCode).toBe(200);
    // quotes, escapes and colons inside strings are not keys
    const tricky = `{"instances":[{"C1":"a\\":\\"b","C2":"{\\"k\\":1}","C3":"\\\\"}]}`;
    expect(JSON.parse(tricky).instances[0].C1).toBe('a":"b');
    expect(checkKeyCounts(tricky, 3)).toBe(tricky);
    expect((await post(tricky)).status).toBe(200);
  });
});
