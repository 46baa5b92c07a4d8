import { describe, expect, it } from 'vitest';
import { createJsonlDecoder } from '../../../src/ingest/jsonl-decoder.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };
const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { reason?: string }).reason;
  }
  return undefined;
};

describe('createJsonlDecoder', () => {
  const dec = createJsonlDecoder(SLOTS);

  it('decodes label, ts (number or numeric string) and slots; absent slots are missing', () => {
    expect(dec('{"label":1,"ts":1700000000000,"features":{"n2":"4.5","c1":"a","c2":17}}', 'x:1')).toEqual({
      label: 1,
      eventTimeMs: 1700000000000,
      numeric: [null, 4.5],
      categorical: ['a', '17'],
    });
    expect(dec('{"label":0,"ts":"1700000000001"}', 'x:2')).toEqual({
      label: 0,
      eventTimeMs: 1700000000001,
      numeric: [null, null],
      categorical: [null, null],
    });
    expect(dec('{"label":0,"ts":null,"features":{"n1":null,"c1":null,"n2":""}}', 'x:3')).toEqual({
      label: 0,
      eventTimeMs: null,
      numeric: [null, null],
      categorical: [null, null],
    });
  });

  it('ts must be ms since the epoch between 2001 and 2500 (bounds included)', () => {
    expect(dec('{"label":0,"ts":1000000000000}', 'x:1').eventTimeMs).toBe(1e12);
    expect(dec('{"label":0,"ts":16725225600000}', 'x:1').eventTimeMs).toBe(16725225600000);
    expect(reasonOf(() => dec('{"label":0,"ts":999999999999}', 'x:1'))).toBe('bad_timestamp');
    expect(reasonOf(() => dec('{"label":0,"ts":16725225600001}', 'x:1'))).toBe('bad_timestamp');
    expect(reasonOf(() => dec('{"label":0,"ts":1700000000}', 'x:1'))).toBe('bad_timestamp');
  });

  it('typed errors by reason', () => {
    expect(reasonOf(() => dec('nope', 'x:1'))).toBe('bad_json');
    expect(reasonOf(() => dec('"a string"', 'x:1'))).toBe('bad_json');
    expect(reasonOf(() => dec('{"features":{}}', 'x:1'))).toBe('missing_label');
    expect(reasonOf(() => dec('{"label":"1"}', 'x:1'))).toBe('bad_label');
    expect(reasonOf(() => dec('{"label":false}', 'x:1'))).toBe('bad_label');
    expect(reasonOf(() => dec('{"label":0,"ts":true}', 'x:1'))).toBe('wrong_type');
    expect(reasonOf(() => dec('{"label":0,"features":[1]}', 'x:1'))).toBe('wrong_type');
    expect(reasonOf(() => dec('{"label":0,"features":{"n1":[1]}}', 'x:1'))).toBe('wrong_type');
    expect(reasonOf(() => dec('{"label":0,"features":{"c1":true}}', 'x:1'))).toBe('wrong_type');
    expect(reasonOf(() => dec('{"label":0,"features":{"n1":"1x"}}', 'x:1'))).toBe('bad_number');
    expect(reasonOf(() => dec('{"label":0,"features":{"n1":1e999}}', 'x:1'))).toBe('bad_number');
  });

  it('a slot value error names the slot in where', () => {
    expect(() => dec('{"label":0,"features":{"c2":{}}}', 'x:4')).toThrow(
      expect.objectContaining({ where: 'x:4 features.c2' }),
    );
  });

  it('under schema.unknownSlots=ignore, drops an unknown slot and reports each name once', () => {
    const seen: string[] = [];
    const onUnknownSlot = (slot: string, where: string) => seen.push(`${slot}@${where}`);
    const d = createJsonlDecoder(SLOTS, { onUnknownSlot, unknownSlots: 'ignore' });
    d('{"label":0,"features":{"zz":1,"n1":2}}', 'x:1');
    d('{"label":0,"features":{"zz":1,"yy":"a"}}', 'x:2');
    expect(seen).toEqual(['zz@x:1', 'yy@x:2']);
  });

  it('under schema.unknownSlots=reject (the default), a row with an unknown slot is bad: unknown_slot', () => {
    const seen: string[] = [];
    const d = createJsonlDecoder(SLOTS, { onUnknownSlot: (s) => seen.push(s) });
    expect(() => d('{"label":0,"features":{"n1":2,"zz":1}}', 'x:1')).toThrow(
      expect.objectContaining({
        reason: 'unknown_slot',
        where: 'x:1 features.zz',
        message: expect.stringMatching(/zz/),
      }),
    );
    expect(seen).toEqual([]);
    // schema.ignore drops a key under either policy
    const ign = createJsonlDecoder(SLOTS, { ignore: ['zz'] });
    expect(ign('{"label":0,"features":{"n1":2,"zz":1}}', 'x:2').numeric[0]).toBe(2);
  });

  it('a top-level key other than label, ts, the weight key and features follows schema.unknownSlots too', () => {
    // a flat line (slots beside label) was trained as an example with every slot missing, silently
    expect(() => dec('{"label":1,"n1":2,"c1":"a"}', 'x:1')).toThrow(
      expect.objectContaining({
        reason: 'unknown_slot',
        where: 'x:1 n1',
        message: expect.stringMatching(/"features"/),
      }),
    );
    const seen: string[] = [];
    const d = createJsonlDecoder(SLOTS, { unknownSlots: 'ignore', onUnknownSlot: (s) => seen.push(s) });
    expect(d('{"label":1,"n1":2,"features":{"n1":3}}', 'x:2').numeric[0]).toBe(3);
    expect(seen).toEqual(['n1']);
    const w = createJsonlDecoder(SLOTS, { weight: 'w', ignore: ['uid'] });
    expect(w('{"label":1,"ts":1700000000000,"w":2,"uid":"u","features":{"n1":1}}', 'x:3').weight).toBe(2);
  });

  it('reads the sample weight of schema.weight: absent/null = 1, negative or non-finite = bad_weight', () => {
    const d = createJsonlDecoder(SLOTS, { weight: 'w' });
    expect(d('{"label":1,"w":2.5}', 'x:1').weight).toBe(2.5);
    expect(d('{"label":1,"w":"0.25"}', 'x:1').weight).toBe(0.25);
    expect(d('{"label":1,"w":0}', 'x:1').weight).toBe(0);
    expect(d('{"label":1}', 'x:1').weight).toBeUndefined();
    expect(d('{"label":1,"w":null}', 'x:1').weight).toBeUndefined();
    for (const w of ['-1', '"abc"', '1e400', 'true', '[]', '"NaN"'])
      expect(() => d(`{"label":1,"w":${w}}`, 'x:3'), w).toThrow(expect.objectContaining({ reason: 'bad_weight' }));
    // no weight key configured: "w" is a key the config does not name (unknown_slot), unless ignored
    expect(reasonOf(() => createJsonlDecoder(SLOTS)('{"label":1,"w":-1}', 'x:1'))).toBe('unknown_slot');
    expect(createJsonlDecoder(SLOTS, { ignore: ['w'] })('{"label":1,"w":-1}', 'x:1').weight).toBeUndefined();
  });
});
