// Kafka message values -> rows (message-decoder.ts): bad messages by reason, never thrown;
// the message timestamp stands in for a missing event time.
import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { defaultInputColumns } from '../../../../src/ingest/input-columns.ts';
import { createMessageDecoder } from '../../../../src/ingest/kafka/message-decoder.ts';

const schema = { numeric: ['I1'], categorical: ['C1'] };
const criteoLine = ['1', '5', ...Array(12).fill(''), 'abc', ...Array(25).fill('')].join('\t');

describe('message decoder', () => {
  it('decodes JSON lines, with the message timestamp when the row has no ts', () => {
    const unknown: string[] = [];
    const d = createMessageDecoder('jsonl', schema, 1000, {
      onUnknownSlot: (slot, where) => unknown.push(`${slot} ${where}`),
      columns: { ...defaultInputColumns(), unknownSlots: 'ignore' },
    });
    const r = d(Buffer.from('{"label":1,"features":{"I1":3,"C1":"x","Z":1}}'), 1.7e12, 't/0@4');
    expect(r).toEqual({ ok: true, row: { label: 1, eventTimeMs: 1.7e12, numeric: [3], categorical: ['x'] } });
    expect(unknown).toEqual(['Z t/0@4']);
    const own = d(Buffer.from('{"label":0,"ts":1600000000000,"features":{}}'), 1.7e12, 't/0@5');
    expect(own.ok && own.row.eventTimeMs).toBe(1.6e12);
    const noTime = d(Buffer.from('{"label":0,"features":{}}'), Number.NaN, 't/0@6');
    expect(noTime.ok && noTime.row.eventTimeMs).toBeNull();
  });

  it('decodes Criteo lines', () => {
    const r = createMessageDecoder('criteo', schema, 1000)(Buffer.from(criteoLine), 5, 'w');
    expect(r.ok).toBe(true);
    expect(r.ok && [r.row.label, r.row.numeric[0], r.row.categorical[0]]).toEqual([1, 5, 'abc']);
  });

  it('gives the reason of each bad message and names where it is', () => {
    const d = createMessageDecoder('jsonl', schema, 20);
    const bad = (v: Buffer | null) => {
      const r = d(v, 0, 'clicks/2@9');
      return r.ok ? 'ok' : `${r.reason}: ${r.error}`;
    };
    expect(bad(null)).toBe('empty: empty message (at clicks/2@9)');
    expect(bad(Buffer.alloc(0))).toMatch(/^empty: /);
    expect(bad(Buffer.alloc(21, 32))).toBe(
      'oversized: message of 21 bytes is over kafka.maxMessageBytes=20 (at clicks/2@9)',
    );
    expect(bad(Buffer.alloc(20, 32))).not.toMatch(/^oversized/);
    expect(bad(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('bad_utf8: message is not valid UTF-8 (at clicks/2@9)');
    expect(bad(Buffer.from('{"label":'))).toMatch(/^bad_json: .*clicks\/2@9/);
    expect(bad(Buffer.from('{"label":2}'))).toMatch(/^bad_label: /);
    expect(bad(Buffer.from('{"x":1}'))).toMatch(/^missing_label: /);
    const criteo = createMessageDecoder('criteo', schema, 1000);
    expect(criteo(Buffer.from('a\tb'), 0, 'w')).toMatchObject({ ok: false, reason: 'wrong_field_count' });
  });

  it('applies schema.unknownSlots, schema.time and schema.weight to JSON messages as to files', () => {
    const d = createMessageDecoder('jsonl', schema, 1000); // default: reject
    const r = d(Buffer.from('{"label":1,"features":{"I1":3,"Z":1}}'), 1.7e12, 't/0@4');
    expect(r).toMatchObject({ ok: false, reason: 'unknown_slot' });
    expect(!r.ok && r.error).toMatch(/features\.Z is not a slot/);
    const cols = { ...defaultInputColumns(), time: { column: 'hour', format: 'YYMMDDHH' }, weight: 'w' };
    const t = createMessageDecoder('jsonl', schema, 1000, { columns: cols });
    const ok = t(Buffer.from('{"label":1,"hour":"14102100","w":3,"features":{"I1":3}}'), 1.7e12, 't/0@5');
    expect(ok).toMatchObject({ ok: true, row: { eventTimeMs: Date.UTC(2014, 9, 21, 0), weight: 3 } });
    expect(t(Buffer.from('{"label":1,"hour":"1410","features":{}}'), 0, 't/0@6')).toMatchObject({
      ok: false,
      reason: 'bad_timestamp',
    });
    expect(t(Buffer.from('{"label":1,"w":-2,"features":{}}'), 0, 't/0@7')).toMatchObject({
      ok: false,
      reason: 'bad_weight',
    });
  });

  it('passes source.libsvm.fieldStarts to the libsvm decoder', () => {
    const two = { numeric: ['I1'], categorical: ['C1'] };
    const m = createMessageDecoder('libsvm', two, 1000, { sparse: { fieldStarts: [0, 100] } });
    const r = m(Buffer.from('1 0:2.5 150:1'), 5, 't/0@1');
    expect(r).toMatchObject({ ok: true, row: { numeric: [2.5], categorical: ['150'] } });
  });

  it('kafka.format=arrow: an Arrow IPC stream of several batches is one message of many rows', () => {
    const part = (from: number, n: number) =>
      tableFromArrays({
        label: Int8Array.from({ length: n }, (_, i) => (from + i) % 2),
        I1: Float64Array.from({ length: n }, (_, i) => from + i),
        C1: Array.from({ length: n }, (_, i) => `c${from + i}`),
        w: Float64Array.from({ length: n }, () => 2),
      });
    const all = part(0, 5);
    const two = new Table([...all.slice(0, 3).batches, ...all.slice(3).batches]);
    expect(two.batches.length).toBe(2);
    const d = createMessageDecoder('arrow', schema, 1 << 20, { columns: { ...defaultInputColumns(), weight: 'w' } });
    const r = d(Buffer.from(tableToIPC(two, 'stream')), 1.7e12, 't/0@9');
    expect(r.ok).toBe(true);
    const rows = r.ok ? [r.row, ...(r.rest ?? [])] : [];
    expect(rows.map((x) => [x.label, x.numeric[0], x.categorical[0], x.weight, x.eventTimeMs])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i % 2, i, `c${i}`, 2, 1.7e12]),
    );
    expect(d(Buffer.from('not arrow at all'), 0, 't/0@10')).toMatchObject({ ok: false, reason: 'bad_arrow' });
    const noLabel = tableToIPC(tableFromArrays({ I1: Float64Array.from([1]) }), 'stream');
    expect(d(Buffer.from(noLabel), 0, 't/0@11')).toMatchObject({ ok: false, reason: 'missing_label' });
    const cells = { label: Int8Array.from([1, 3]), I1: Float64Array.from([1, 2]), C1: ['a', 'b'] };
    const badRow = tableToIPC(tableFromArrays(cells), 'stream');
    expect(d(Buffer.from(badRow), 0, 't/0@12')).toMatchObject({ ok: false, reason: 'bad_label' });
  });
});
