/**
 * WriteRetries (src/train/write-retries.ts): a filesystem error of a write is counted, emitted
 * and waited out (min, 2 min, 4 min ... up to max seconds), a success starts afresh, and errors
 * that are no filesystem errors (a diverged model, a bug) pass through untouched.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import type { WriteFailureEvent } from '../../../src/events/train-events.ts';
import { backoffSeconds, WriteRetries } from '../../../src/train/write-retries.ts';

const enospc = () =>
  new LionctrError('LIONCTR_WRITE_FAILED', 'checkpoint step 3 under /c: write of 4 B failed: ENOSPC', {
    reason: 'ENOSPC',
    where: '/c/.tmp-3/state.bin',
  });
const sysErr = () =>
  Object.assign(new Error("ENOSPC: no space left on device, mkdir '/c/.tmp-3'"), {
    code: 'ENOSPC',
    syscall: 'mkdir',
    errno: -28,
  });

describe('WriteRetries', () => {
  it('backs off min, 2 min, 4 min ... up to max; a success starts afresh', async () => {
    let now = 0;
    const events: WriteFailureEvent[] = [];
    const w = new WriteRetries(
      { min: 1, max: 5 },
      pino({ level: 'silent' }),
      (e) => events.push(e),
      () => now,
    );
    const fail = () => Promise.reject(enospc());
    for (let i = 0; i < 4; i++) {
      expect(w.ready('checkpoint')).toBe(true);
      expect(await w.attempt('checkpoint', fail)).toBeUndefined();
      expect(w.ready('checkpoint')).toBe(false);
      expect(w.ready('export')).toBe(true); // each kind has its own backoff
      now += events.at(-1)!.retryInSeconds * 1000;
    }
    expect(events.map((e) => e.retryInSeconds)).toEqual([1, 2, 4, 5]);
    expect(events.map((e) => e.inARow)).toEqual([1, 2, 3, 4]);
    expect(events[0]).toMatchObject({ kind: 'checkpoint', reason: 'ENOSPC' });
    expect(events[0].error).toMatch(/checkpoint step 3 .*ENOSPC \(at \/c\/\.tmp-3\/state\.bin\)/);
    expect(await w.attempt('checkpoint', async () => 'ok')).toBe('ok');
    expect(w.inARow('checkpoint')).toBe(0);
    expect(await w.attempt('export', () => Promise.reject(sysErr()))).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ kind: 'export', reason: 'ENOSPC', inARow: 1, retryInSeconds: 1 });
  });

  it('lets errors that are no filesystem errors through', async () => {
    const w = new WriteRetries({ min: 1, max: 5 }, pino({ level: 'silent' }), () => {
      throw new Error('no event expected');
    });
    const diverged = new LionctrError('LIONCTR_DIVERGED', 'weights NaN');
    await expect(w.attempt('export', () => Promise.reject(diverged))).rejects.toBe(diverged);
    await expect(w.attempt('delta', () => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
    expect(w.ready('export')).toBe(true);
  });

  it('backoffSeconds', () => {
    expect([1, 2, 3, 4, 50].map((n) => backoffSeconds({ min: 0.5, max: 3 }, n))).toEqual([0.5, 1, 2, 3, 3]);
    expect(backoffSeconds({ min: 0, max: 3 }, 9)).toBe(0);
  });
});
