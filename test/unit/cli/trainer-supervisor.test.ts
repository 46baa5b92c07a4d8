/**
 * `run`'s trainer supervisor (src/cli/trainer-supervisor.ts) with scripted trainers: a failing
 * trainer is restarted after min, 2 min, 4 min ... up to max seconds, afresh at min after one
 * that ran max seconds; a diverged one is not restarted; the shutdown signal ends a backoff at
 * once; lionctr_train_up follows the state and /readyz's text says why training is down.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import { TrainerSupervisor, type SupervisorOptions } from '../../../src/cli/trainer-supervisor.ts';
import type { TrainSummary } from '../../../src/train/trainer-options.ts';

const silent = pino({ level: 'silent' });
const summary = { examplesThisRun: 5 } as TrainSummary;

/**
 * A supervisor whose trainers follow `script` (an error: it fails after becoming active; 'ok': it
 * ends); `during(k)` runs inside the k-th trainer (0-based).
 */
function scripted(script: (Error | 'ok')[], o: Partial<SupervisorOptions> = {}, during = (_k: number) => {}) {
  const sleeps: number[] = [];
  const up: number[] = [];
  const seen: string[] = [];
  let restarts = 0;
  let k = 0;
  const ac = new AbortController();
  const sup: TrainerSupervisor = new TrainerSupervisor({
    start: async (_signal, active) => {
      const next = script.shift() ?? 'ok';
      active();
      during(k++);
      seen.push(sup.describe());
      if (next === 'ok') return summary;
      throw next;
    },
    backoff: { min: 1, max: 8 },
    logger: silent,
    metrics: { trainUp: { set: (v) => up.push(v) }, trainRestarts: { inc: () => restarts++ } },
    signal: ac.signal,
    sleep: async (ms) => {
      sleeps.push(ms);
      seen.push(sup.describe());
    },
    ...o,
  });
  return { sup, sleeps, up, seen, ac, restarts: () => restarts };
}

describe('TrainerSupervisor', () => {
  it('restarts a failing trainer with exponential backoff up to max, then returns its summary', async () => {
    const fail = () => new LionctrError('LIONCTR_BAD_CONFIG', 'cannot reach Kafka at 127.0.0.1:1');
    const s = scripted([fail(), fail(), fail(), fail(), fail(), 'ok']);
    expect(await s.sup.run()).toBe(summary);
    expect(s.sleeps).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(s.restarts()).toBe(5);
    expect(s.sup.state).toBe('finished');
    expect(s.seen[1]).toMatch(
      /^down: \[LIONCTR_BAD_CONFIG\] cannot reach Kafka at 127\.0\.0\.1:1; restart 1 in [01] s$/,
    );
    expect(s.seen[0]).toBe('up');
    // 0 at each start, 1 once active, 0 when down ... and 0 when finished
    expect(s.up.slice(0, 4)).toEqual([0, 1, 0, 0]);
    expect(s.up.at(-1)).toBe(0);
  });

  it('does not restart a diverged trainer and says so', async () => {
    const s = scripted([new LionctrError('LIONCTR_DIVERGED', 'loss NaN 10 steps in a row'), 'ok']);
    expect(await s.sup.run()).toBeNull();
    expect(s.restarts()).toBe(0);
    expect(s.sleeps).toEqual([]);
    expect(s.sup.state).toBe('diverged');
    expect(s.sup.describe()).toMatch(/^diverged: \[LIONCTR_DIVERGED\] loss NaN .*not restarted/);
  });

  it('a plain Error with a code (as from a worker thread) is read by its code', async () => {
    const e = Object.assign(new Error('weights NaN'), { code: 'LIONCTR_DIVERGED' });
    const s = scripted([e]);
    expect(await s.sup.run()).toBeNull();
    expect(s.sup.state).toBe('diverged');
  });

  it('starts the backoff afresh after a trainer that ran max seconds before it failed', async () => {
    let now = 0;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const fail = new Error('boom');
      // the third trainer runs 9 s (> max 8) before it fails
      const s = scripted([fail, fail, fail, fail, 'ok'], {}, (k) => {
        if (k === 2) now += 9000;
      });
      await s.sup.run();
      expect(s.sleeps).toEqual([1000, 2000, 1000, 2000]);
    } finally {
      Date.now = realNow;
    }
  });

  it('stops at once when the shutdown signal fires during a backoff', async () => {
    const ac = new AbortController();
    const s = scripted([new Error('boom'), 'ok'], {
      signal: ac.signal,
      sleep: async () => ac.abort(),
    });
    expect(await s.sup.run()).toBeNull();
    expect(s.restarts()).toBe(0);
    expect(s.sup.state).toBe('stopped');
  });
});
