/** Integer flags (--limit, --skip, --max-examples, --partitions, ...) are read like config numbers. */
import { describe, expect, it } from 'vitest';
import { intArg } from '../../../src/cli/commands/flags.ts';

describe('integer flags', () => {
  it('take a whole JSON number (1e3 = 1000) and refuse the rest', () => {
    const limit = intArg('--limit');
    expect([limit('0'), limit('1e3'), limit('8000')]).toEqual([0, 1000, 8000]);
    for (const v of ['', ' ', '5k', '0x10', '1.5', '-1', 'Infinity', '1_000']) {
      expect(() => limit(v), JSON.stringify(v)).toThrow(/--limit must be an integer >= 0/);
    }
    expect(() => intArg('--partitions', 1)('0')).toThrow(/--partitions must be an integer >= 1/);
  });
});
