/**
 * One rule for training and serving (README "Input rules"): each input form is read the same
 * by training (a JSON-lines Kafka message, message-decoder.ts; a CSV/TSV cell, decode-util.ts)
 * and by serving (a predict request through the HTTP server, its slow and fast paths): numbers
 * written as text, whitespace-only numbers, a UTF-8 BOM and bytes that are not UTF-8.
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

const schema = { numeric: ['I1'], categorical: ['C1'], embeddingDim: 2 };
const featurizer = new Featurizer(schema);
const decode = createMessageDecoder('jsonl', schema, 1 << 16);

function server() {
  const served = {
    version: '1',
    featurizer,
    model: { score: async (b: { size: number }) => new Float32Array(b.size) },
  };
  const registry = {
    current: () => served,
    acquire: () => ({ version: '1', value: served, release: () => {} }),
    lastError: undefined,
  } as unknown as ModelRegistry;
  return createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr', logger: pino({ level: 'silent' }) });
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
  it('reads a number written as text the same: decimal only, whitespace only is missing', async () => {
    const app = server();
    const forms = ['7', ' 7 ', '-1.5', '+5', '.5', '1e3', '0x10', '0b1', '0o7', '1_000', 'Infinity', 'NaN', '1e400'];
    const seen: Record<string, string> = {};
    for (const s of [...forms, ' ', '\t']) {
      const want = trained(s);
      const body = JSON.stringify({ instances: [{ I1: s }] });
      const r = await app.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: body });
      seen[s] = `${want === 'bad' ? 'bad' : 'ok'} ${r.statusCode}`;
      expect(r.statusCode, `serving ${JSON.stringify(s)}`).toBe(want === 'bad' ? 400 : 200);
      if (want !== 'bad') expect(featurizer.fromInstances([{ I1: s }]).dense[0]).toBe(Math.fround(numericDense(want)));
    }
    expect(seen['0x10']).toBe('bad 400'); // serving took it as 16
    expect(seen[' ']).toBe('ok 200'); // missing in both (serving answered 400)
    expect(trained(' ')).toBeNull();
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
});
