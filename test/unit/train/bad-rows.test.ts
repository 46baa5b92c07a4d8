import { describe, expect, it } from 'vitest';
import { addBadRows, badRowsSince } from '../../../src/train/bad-rows.ts';

describe('bad row counts', () => {
  it('gives the reasons that grew since the last look, by how much', () => {
    expect(badRowsSince({ bad_json: 3, bad_label: 1 }, { bad_json: 1, bad_label: 1 })).toEqual({ bad_json: 2 });
    expect(badRowsSince({ empty: 2 }, {})).toEqual({ empty: 2 });
    expect(badRowsSince({}, {})).toEqual({});
  });

  it("adds a pass's counts into the run's totals", () => {
    const total = { bad_json: 1 };
    addBadRows(total, { bad_json: 2, oversized: 1 });
    expect(total).toEqual({ bad_json: 3, oversized: 1 });
  });
});
