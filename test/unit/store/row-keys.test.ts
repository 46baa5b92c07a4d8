/**
 * Row keys and Redis Cluster hash slots (src/store/redis/row-keys.ts): the key format of
 * row-access.ts's module doc, and keySlot against the slots a real Redis 7.0.15 answered to
 * `CLUSTER KEYSLOT` for the same keys (hash tags included: a non-empty `{...}` hashes alone, an
 * empty `{}` does not count, only the first tag counts).
 */
import { describe, expect, it } from 'vitest';
import { HASH_SLOTS, keySlot, rowKey } from '../../../src/store/redis/row-keys.ts';

const slotOf = (k: string) => keySlot(Buffer.from(k));

describe('row keys', () => {
  it('is <prefix>:<slot>:<hi and lo as 16 hex digits>', () => {
    expect(rowKey('lionctr', 'C1', 1, 0xdeadbeef)).toBe('lionctr:C1:00000001deadbeef');
    expect(rowKey('p', 'I13', 0xffffffff, 0)).toBe('p:I13:ffffffff00000000');
  });
  it('hashes to the slots Redis Cluster says (CLUSTER KEYSLOT)', () => {
    const redis: [string, number][] = [
      ['foo', 12182],
      ['bar', 5061],
      ['123456789', 12739],
      ['{user1000}.following', 3443],
      ['a{}b', 13694],
      ['{}{x}', 3257],
      ['{a}{b}', 15495],
      ['lionctr:C1:00000001deadbeef', 12000],
    ];
    expect(redis.map(([k]) => [k, slotOf(k)])).toEqual(redis);
    expect(redis.map(([k]) => [k, keySlot(k)])).toEqual(redis); // as a string
    expect([keySlot('lionctr:é:1'), slotOf('lionctr:é:1')]).toEqual([9391, 9391]); // not ASCII: its UTF-8 bytes
    expect(keySlot(`${'x'.repeat(300)}{user1000}`)).toBe(3443); // longer than the scratch buffer
    expect(slotOf('{user1000}.followers')).toBe(slotOf('{user1000}.following'));
    expect(HASH_SLOTS).toBe(16384);
  });
});
