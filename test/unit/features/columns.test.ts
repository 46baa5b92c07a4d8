import { describe, expect, it } from 'vitest';
import { EVENT_TIME_COLUMN, LABEL_COLUMN, RESERVED_SLOT_NAMES, TS_INPUT_FIELD } from '../../../src/features/columns.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { CRITEO_CATEGORICAL, CRITEO_NUMERIC, criteoSlots, validateSchema } from '../../../src/features/schema.ts';
import { arrowSchemaFor, rowsToRecordBatch } from '../../../src/ingest/arrow/record-batch-builder.ts';

describe('batch column names (features/columns.ts)', () => {
  it('every fixed column the record-batch builder writes, and the ts input field, is a reserved slot name', () => {
    const all = { bayesP: true, weight: true };
    const fixed = arrowSchemaFor({ numeric: [], categorical: [] }, all).fields.map((f) => f.name);
    expect(fixed).toContain(LABEL_COLUMN);
    expect([...RESERVED_SLOT_NAMES].sort()).toEqual([...fixed, TS_INPUT_FIELD].sort());
  });

  it('validateSchema rejects each reserved name as a numeric or a categorical slot', () => {
    for (const name of RESERVED_SLOT_NAMES) {
      for (const schema of [
        { numeric: [name], categorical: ['c'], embeddingDim: 4 },
        { numeric: ['n'], categorical: [name], embeddingDim: 4 },
      ]) {
        expect(() => validateSchema(schema), name).toThrow(
          expect.objectContaining({ code: 'LIONCTR_BAD_CONFIG', message: expect.stringContaining('is reserved') }),
        );
      }
    }
    expect(() => validateSchema({ numeric: ['n'], categorical: ['c'], embeddingDim: 4 })).not.toThrow();
  });

  it('the Featurizer reads label, event time, partition, offset and bayes_p of a built batch', () => {
    const slots = { numeric: ['n'], categorical: ['c'] };
    const rb = rowsToRecordBatch(
      slots,
      [
        { label: 1, eventTimeMs: 1_700_000_000_000, numeric: [3], categorical: ['a'] },
        { label: 0, eventTimeMs: null, numeric: [null], categorical: [null] },
      ],
      { offsets: [41, 42], partition: 3, bayesP: [0.25, 0.5] },
    );
    const fb = new Featurizer({ ...slots, embeddingDim: 4 }).fromRecordBatch(rb);
    expect([...fb.labels]).toEqual([1, 0]);
    expect([...fb.eventTimeMs]).toEqual([1_700_000_000_000, NaN]);
    expect([...fb.partitions]).toEqual([3, 3]);
    expect([...fb.offsets]).toEqual([41, 42]);
    expect([...fb.bayesP!]).toEqual([0.25, 0.5]);
    expect(rb.getChild(EVENT_TIME_COLUMN)!.nullCount).toBe(1);
  });
});

describe('criteoSlots (the one Criteo slot list)', () => {
  it('is I1..I13 numeric and C1..C26 categorical, a fresh object each call', () => {
    const s = criteoSlots();
    expect(s.numeric).toHaveLength(CRITEO_NUMERIC);
    expect(s.categorical).toHaveLength(CRITEO_CATEGORICAL);
    expect(s.numeric[0]).toBe('I1');
    expect(s.numeric.at(-1)).toBe('I13');
    expect(s.categorical[0]).toBe('C1');
    expect(s.categorical.at(-1)).toBe('C26');
    s.numeric.pop();
    expect(criteoSlots().numeric).toHaveLength(13);
  });
});
