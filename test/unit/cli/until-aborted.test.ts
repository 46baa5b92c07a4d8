/**
 * untilAborted (src/cli/commands/lifecycle.ts) ends `serve` and `run` on SIGTERM: a signal that
 * fired during start-up (before the wait began) must end it too, or the process never exits.
 */
import { describe, expect, it } from 'vitest';
import { untilAborted } from '../../../src/cli/commands/lifecycle.ts';

const settled = (p: Promise<void>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('untilAborted', () => {
  it('resolves when the signal fires later', async () => {
    const ac = new AbortController();
    const p = untilAborted(ac.signal);
    expect(await settled(p, 50)).toBe(false);
    ac.abort();
    expect(await settled(p, 1000)).toBe(true);
  });

  it('resolves at once when the signal fired before the wait began', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await settled(untilAborted(ac.signal), 1000)).toBe(true);
  });
});
