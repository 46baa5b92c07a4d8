import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { BAD_REASONS, badReasonOf, isBadReason } from '../../../src/ingest/bad-reasons.ts';
import { decodeCriteoLine } from '../../../src/ingest/criteo-decoder.ts';
import { csvColumnMap } from '../../../src/ingest/csv-decoder.ts';
import { createFileSource } from '../../../src/ingest/file-source.ts';
import { createJsonlDecoder } from '../../../src/ingest/jsonl-decoder.ts';
import { createSparseDecoder } from '../../../src/ingest/sparse-decoder.ts';
import { createMessageDecoder } from '../../../src/ingest/kafka/message-decoder.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';

const SLOTS: SlotSchema = { numeric: ['n1'], categorical: ['c1'] };
const dir = mkdtempSync(path.join(os.tmpdir(), 'lionctr-bad-reasons-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The reason of what `f` throws (undefined when it does not throw). */
function thrown(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { reason?: string }).reason;
  }
  return undefined;
}

/** Every reason the decoders and sources give, each provoked once. */
async function producedReasons(): Promise<Set<string>> {
  const out = new Set<string>();
  const msg = createMessageDecoder('jsonl', SLOTS, 16);
  for (const v of [null, Buffer.alloc(17, 0x20), Buffer.from([0xff, 0xfe]), Buffer.from('{"label":0,"ts":1}')]) {
    const d = msg(v, 0, 't/0@1');
    if (!d.ok) out.add(d.reason);
  }
  const arrow = createMessageDecoder('arrow', SLOTS, 64)(Buffer.from('no arrow'), 0, 't/0@2');
  if (!arrow.ok) out.add(arrow.reason);
  const jsonl = createJsonlDecoder(SLOTS);
  for (const line of [
    '{',
    '{}',
    '{"label":2}',
    '{"label":0,"features":{"n1":"x"}}',
    '{"label":0,"ts":[]}',
    '{"label":0,"ts":5}',
    '{"label":0,"features":{"zz":1}}',
  ]) {
    out.add(thrown(() => jsonl(line, 'x:1'))!);
  }
  for (const line of ['{"label":0,"w":-1}']) {
    out.add(thrown(() => createJsonlDecoder(SLOTS, { weight: 'w' })(line, 'x:1'))!);
  }
  out.add(thrown(() => decodeCriteoLine('1\t2', 'x:1'))!);
  const ffm = createSparseDecoder('libffm', SLOTS);
  for (const line of ['1 0:1', '1 0:3:1 0:4:1', '1 7:1:1']) out.add(thrown(() => ffm(line, 'x:1'))!);
  out.add(thrown(() => csvColumnMap(['label', 'label'], SLOTS, 'x:1'))!);
  out.add(thrown(() => createFileSource({ path: path.join(dir, 'absent.csv'), format: 'csv', schema: SLOTS }))!);
  const csv = path.join(dir, 'bad.csv');
  writeFileSync(csv, 'label,n1,c1\n1,"unterminated\n0,2,x\n');
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const src = createFileSource({ path: csv, format: 'csv', schema: SLOTS });
  for await (const _ of src.batches({ batchSize: 8 })) void _;
  warn.mockRestore();
  for (const r of Object.keys(src.stats().bad)) out.add(r);
  out.add(badReasonOf({ reason: undefined }));
  return out;
}

describe('bad-message reasons', () => {
  it('BAD_REASONS is exactly the set of reasons the decoders and sources give', async () => {
    const produced = await producedReasons();
    expect([...produced].sort()).toEqual([...BAD_REASONS].sort());
  });

  it('the metric catalogue starts every reason at 0, and no other', async () => {
    const m = createMetrics(new client.Registry());
    const series = (await m.ingestBad.get()).values;
    expect(series.map((s) => s.labels.reason).sort()).toEqual([...BAD_REASONS].sort());
    expect(series.every((s) => s.value === 0)).toBe(true);
  });

  it('badReasonOf keeps a catalogued reason and counts anything else as bad_input', () => {
    expect(badReasonOf({ reason: 'bad_csv' })).toBe('bad_csv');
    expect(badReasonOf({ reason: 'made_up' })).toBe('bad_input');
    expect(badReasonOf({})).toBe('bad_input');
    expect(isBadReason('empty')).toBe(true);
    expect(isBadReason(undefined)).toBe(false);
  });
});
