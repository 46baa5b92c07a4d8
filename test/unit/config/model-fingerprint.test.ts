/**
 * The model settings a checkpoint is fingerprinted with (src/model/config.ts
 * fingerprintedModelSection): admission, eviction and the memory budget count only when on, so that a checkpoint
 * written before those keys existed (or by a run that never turns them on) still resumes.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/schema.ts';
import { fingerprintedModelSection } from '../../../src/model/config.ts';

describe('the model settings of a checkpoint fingerprint', () => {
  it('leave out admission, eviction and the budget while they are off, and keep them when on', () => {
    const base = loadConfig().model;
    // what a build without those keys fingerprinted
    const { admission, eviction, memoryBudgetBytes, maxRowsPerTable, ...older } = base;
    expect([memoryBudgetBytes, maxRowsPerTable]).toEqual([0, 0]);
    expect(admission.minCount).toBe(1);
    expect(eviction.ttlSeconds).toBe(0);
    expect(JSON.stringify(fingerprintedModelSection(base))).toBe(JSON.stringify(older));
    const on = { ...base, admission: { ...admission, minCount: 2 }, eviction: { ...eviction, ttlSeconds: 60 } };
    expect(fingerprintedModelSection(on)).toMatchObject({ admission: { minCount: 2 }, eviction: { ttlSeconds: 60 } });
    const sampled = { ...base, admission: { ...admission, probability: 0.5 } };
    expect(fingerprintedModelSection(sampled)).toHaveProperty('admission');
    expect(fingerprintedModelSection(sampled)).not.toHaveProperty('eviction');
    const budget = { ...base, memoryBudgetBytes: 1 << 30, maxRowsPerTable: 1000 };
    expect(fingerprintedModelSection(budget)).toMatchObject({ memoryBudgetBytes: 1 << 30, maxRowsPerTable: 1000 });
  });
});
