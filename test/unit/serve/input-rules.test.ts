/**
 * One rule for training and serving (README "Input rules"): each input form is read the same
 * by training (a JSON-lines Kafka message, message-decoder.ts; a CSV/TSV cell, decode-util.ts)
 * and by serving (a predict request through the HTTP server, its slow and fast paths): a UTF-8
 * BOM, bytes that are not UTF-8, unknown slots. Numbers written as text are read by training
 * (decimal only) and refused by serving with TF Serving's TypeError (its DT_FLOAT takes JSON
 * numbers only).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { numericDense } from '../../../src/features/numeric.ts';
import { parseNumericCell } from '../../../src/ingest/decode-util.ts';
import { createMessageDecoder } from '../../../src/ingest/kafka/message-decoder.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../../src/serve/http-server.ts';
import type { ModelRegistry } from '../../../src/serve/model-registry.ts';
import type { UnknownSlotPolicy } from '../../../src/features/unknown-slots.ts';
import { defaultInputColumns } from '../../../src/ingest/input-columns.ts';

const schema = { numeric: ['I1'], categorical: ['C1'], embeddingDim: 2 };
const featurizer = new Featurizer(schema);
const decode = createMessageDecoder('jsonl', schema, 1 << 16);

function server(unknownSlots?: UnknownSlotPolicy, metrics = createMetrics(), override?: UnknownSlotPolicy) {
  const served = {
    version: '1',
    featurizer,
    manifest: unknownSlots ? { featurization: { unknown_slots: unknownSlots } } : {},
    model: { score: async (b: { size: number }) => new Float32Array(b.size).fill(0.25) },
  };
  const registry = {
    current: () => served,
    acquire: () => ({ version: '1', value: served, release: () => {} }),
    lastError: undefined,
  } as unknown as ModelRegistry;
  const logger = pino({ level: 'silent' });
  return createHttpServer({ registry, metrics, modelName: 'ctr', logger, unknownSlots: override });
}

/** Training's reading of `s` as numeric slot I1: the value, null (missing) or 'bad'. */
function trained(s: string): number | null | 'bad' {
  const r = decode(Buffer.from(JSON.stringify({ label: 0, features: { I1: s } })), 1.7e12, 't/0@0');
  let cell: number | null | 'bad';
  try {
    cell = parseNumericCell(s, 'I1', 'f:1');
  } catch {
    cell = 'bad';
  }
  const kafka = r.ok ? r.row.numeric[0] : r.reason === 'bad_number' ? 'bad' : `other: ${r.reason}`;
  expect(cell, `CSV cell and Kafka message read ${JSON.stringify(s)} alike`).toEqual(kafka);
  return cell;
}

describe('one rule for training and serving', () => {
  it('training reads numbers as text (decimal only); serving takes JSON numbers only (TF Serving)', async () => {
    const app = server();
    const forms = ['7', ' 7 ', '-1.5', '+5', '.5', '1e3', '0x10', '0b1', '0o7', '1_000', 'Infinity', 'NaN', '1e400'];
    const read: Record<string, number | null | 'bad'> = {};
    for (const s of [...forms, ' ', '\t', '']) {
      read[s] = trained(s);
      // TF Serving's DT_FLOAT takes a JSON number only (json_tensor.cc AddValueToTensor: TypeError)
      for (const body of [{ instances: [{ I1: s }] }, { inputs: { I1: [s] } }]) {
        const r = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: JSON.stringify(body) });
        expect(r.statusCode, `serving ${JSON.stringify(body)}`).toBe(400);
        expect(r.json().error).toContain(
          `JSON Value: ${JSON.stringify(s)} Type: String is not of expected type: float`,
        );
      }
    }
    expect(read).toMatchObject({ '0x10': 'bad', ' 7 ': 7, '+5': 5, '.5': 0.5, '1e3': 1000, ' ': null, NaN: 'bad' });
    // the same values as JSON numbers are taken, and featurized as training featurizes its reading
    for (const s of ['7', '-1.5', '+5', '.5', '1e3']) {
      const v = read[s] as number;
      const r = await app.inject({
        method: 'POST',
        url: '/v1/models/ctr:predict',
        payload: JSON.stringify({ instances: [{ I1: v }] }),
      });
      expect(r.statusCode, s).toBe(200);
      expect(featurizer.fromInstances([{ I1: v }]).dense[0]).toBe(Math.fround(numericDense(v)));
    }
    await app.close();
  });

  it('drops a leading UTF-8 BOM and refuses bytes that are not UTF-8, in both', async () => {
    const app = server();
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const json = '{"label":1,"features":{"C1":"a"}}';
    const k = decode(Buffer.concat([bom, Buffer.from(json)]), 1.7e12, 't/0@1');
    expect(k.ok).toBe(true);
    const body = Buffer.concat([bom, Buffer.from('{"instances":[{"C1":"a"}]}')]);
    const r = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(200);

    const broken = Buffer.from([...Buffer.from('{"instances":[{"C1":"a'), 0xff, ...Buffer.from('"}]}')]);
    const kb = decode(
      Buffer.from([...Buffer.from('{"label":1,"features":{"C1":"a'), 0xff, ...Buffer.from('"}}')]),
      1,
      'w',
    );
    expect(kb.ok ? 'ok' : kb.reason).toBe('bad_utf8');
    const rb = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr:predict',
      payload: broken,
      headers: { 'content-type': 'application/json' },
    });
    expect(rb.statusCode).toBe(400);
    expect(rb.json().error).toBe('JSON Parse error: the body is not valid UTF-8');
    await app.close();
  });

  it('one unknown-slot policy: reject refuses the row and the request, ignore drops the key in both', async () => {
    const msg = Buffer.from('{"label":1,"features":{"C1":"a","Z9":"x"}}');
    const predict = (app: ReturnType<typeof server>, payload: unknown) =>
      app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: JSON.stringify(payload) });
    const bodies = [
      { instances: [{ C1: 'a', Z9: 'x' }] },
      { inputs: { C1: ['a', 'b'], Z9: [1, 2] } },
      { instances: [{ C1: 'a', I1: 1, Z9: 'x' }], signature_name: 'serving_default' },
    ];
    // reject: a bad row (unknown_slot) in training, 400 naming the key in serving (the default, and an old export)
    expect(decode(msg, 1, 'w')).toMatchObject({ ok: false, reason: 'unknown_slot' });
    for (const policy of ['reject', undefined] as const) {
      const app = server(policy);
      for (const b of bodies) {
        const r = await predict(app, b);
        expect(r.statusCode, JSON.stringify(b)).toBe(400);
        expect(r.json().error).toMatch(/does not have named input: Z9/);
      }
      const c = await app.inject({
        method: 'POST',
        url: '/v1/models/ctr:classify',
        payload: '{"examples":[{"Z9":1}]}',
      });
      expect(c.statusCode).toBe(400);
      // the same words as predict's (README "One rule for unknown slots")
      expect(c.json().error).toBe('JSON object: does not have named input: Z9');
      const n = await app.inject({
        method: 'POST',
        url: '/v1/models/ctr:regress',
        payload: '{"examples":[{"I1":"1.5"}]}',
      });
      expect(n.statusCode).toBe(400);
      expect(n.json().error).toBe('JSON Value: "1.5" Type: String is not of expected type: float');
      await app.close();
    }
    // ignore: dropped in training (the row trains without it) and in serving (counted)
    const cols = { ...defaultInputColumns(), unknownSlots: 'ignore' as const };
    const ign = createMessageDecoder('jsonl', schema, 1 << 16, { columns: cols })(msg, 1, 'w');
    expect(ign).toMatchObject({ ok: true, row: { categorical: ['a'] } });
    const metrics = createMetrics();
    const app = server('ignore', metrics);
    for (const b of bodies) {
      const r = await predict(app, b);
      expect(r.statusCode, JSON.stringify(b)).toBe(200);
    }
    const c = await app.inject({ method: 'POST', url: '/v1/models/ctr:classify', payload: '{"examples":[{"Z9":1}]}' });
    expect(c.statusCode).toBe(200);
    expect((await metrics.serveUnknownSlots.get()).values[0].value).toBe(1 + 2 + 1 + 1);
    await app.close();
    // serve.unknownSlots overrides the export's policy, both ways
    const strict = server('ignore', createMetrics(), 'reject');
    expect((await predict(strict, bodies[0])).statusCode).toBe(400);
    await strict.close();
    const lax = server('reject', createMetrics(), 'ignore');
    expect((await predict(lax, bodies[0])).statusCode).toBe(200);
    await lax.close();
  });
});
