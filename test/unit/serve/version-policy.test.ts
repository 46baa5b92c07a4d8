import { describe, expect, it, vi } from 'vitest';
import { fillCandidates, newestFirst, versionsToKeep } from '../../../src/serve/version-policy.ts';
import { VersionSet } from '../../../src/serve/version-set.ts';

describe('version policy (latest N, labels pin)', () => {
  it('orders versions as numbers, not strings', () => {
    expect(newestFirst(['9', '10', '1700000000000', '0099'])).toEqual(['1700000000000', '0099', '10', '9']);
  });

  it('keeps the current version, the newest keep-1 others and every labelled one', () => {
    const loaded = ['5', '4', '3', '2', '1'];
    expect(versionsToKeep(loaded, '5', 2, new Set())).toEqual(['5', '4']);
    expect(versionsToKeep(loaded, '5', 1, new Set())).toEqual(['5']);
    expect(versionsToKeep(loaded, '5', 2, new Set(['1']))).toEqual(['5', '4', '1']);
    // labelled versions come on top of the newest N
    expect(versionsToKeep(loaded, '5', 2, new Set(['4']))).toEqual(['5', '4', '3']);
    // LATEST moved back to 3: it stays, with the newest other
    expect(versionsToKeep(loaded, '3', 2, new Set())).toEqual(['5', '3']);
    expect(versionsToKeep(['7'], '7', 3, new Set(['6']))).toEqual(['7']);
  });

  it('fills at start-up with labelled versions on disk, then older ones newest first, never newer ones', () => {
    const disk = ['1', '2', '3', '4', '5', 'LATEST', '.tmp-6', 'checkpoints'];
    expect(fillCandidates(disk, '4', new Set(['1', '5']), new Set(['4']))).toEqual(['5', '1', '3', '2']);
    expect(fillCandidates(disk, '4', new Set(), new Set(['4', '3']))).toEqual(['2', '1']);
  });
});

describe('VersionSet reference counts', () => {
  const setOf = () => {
    const disposed: string[] = [];
    const set = new VersionSet<{ id: string }>((v) => disposed.push(v));
    set.add('1', { id: 'a' });
    set.add('2', { id: 'b' });
    return { set, disposed };
  };

  it('frees an idle version when it is retired', () => {
    const { set, disposed } = setOf();
    set.retire('1');
    expect(disposed).toEqual(['1']);
    expect(set.versions()).toEqual(['2']);
    expect(set.acquire('1')).toBeUndefined();
  });

  it('frees a held version only when its last holder releases it, once', () => {
    const { set, disposed } = setOf();
    const a = set.acquire('1'),
      b = set.acquire('1');
    expect(a?.value).toEqual({ id: 'a' });
    set.retire('1');
    expect(disposed).toEqual([]);
    expect(set.acquire('1')).toBeUndefined(); // no new request gets a retired version
    expect(set.refs()).toEqual({ '1': 2, '2': 0 });
    a?.release();
    a?.release(); // a second release of the same handle does not count
    expect(disposed).toEqual([]);
    b?.release();
    expect(disposed).toEqual(['1']);
    expect(set.refs()).toEqual({ '2': 0 });
  });

  it('retireAll frees idle versions now and held ones on release; a version is added once', () => {
    const { set, disposed } = setOf();
    const h = set.acquire('2');
    set.retireAll();
    expect(disposed).toEqual(['1']);
    h?.release();
    expect(disposed).toEqual(['1', '2']);
    set.add('3', { id: 'c' });
    expect(() => set.add('3', { id: 'c' })).toThrow(/loaded already/);
    const spy = vi.fn();
    new VersionSet(spy).retire('nope');
    expect(spy).not.toHaveBeenCalled();
  });
});
