/**
 * When `lionctr train` counts as interrupted (src/cli/train-report.ts): a signal before the end
 * of a run that has one; a Kafka run without train.maxExamples ends only by a signal (exit 0).
 */
import { describe, expect, it } from 'vitest';
import { interruptedExit, interruption } from '../../../src/cli/train-report.ts';
import { loadConfig } from '../../../src/config/schema.ts';
import type { TrainSummary } from '../../../src/train/trainer-options.ts';

const summary = (examples: number) => ({ progress: { examples, step: 1 }, examplesThisRun: examples }) as TrainSummary;
const aborted = (reason: string) => {
  const ac = new AbortController();
  ac.abort(reason);
  return ac.signal;
};

describe('train interruption', () => {
  it('a signal before the end of a file, synthetic or bounded Kafka run; not after its end', () => {
    const file = loadConfig([], ['source.kind="file"', 'source.path="x"']);
    expect(interruption(file, summary(10), aborted('SIGTERM'))).toBe('SIGTERM');
    expect(interruption(file, summary(10), new AbortController().signal)).toBeNull();
    const bounded = loadConfig([], ['source.kind="kafka"', 'train.maxExamples=100']);
    expect(interruption(bounded, summary(10), aborted('SIGINT'))).toBe('SIGINT');
    expect(interruption(bounded, summary(100), aborted('SIGINT'))).toBeNull(); // it had reached its end
    const endless = loadConfig([], ['source.kind="kafka"']);
    expect(interruption(endless, summary(10), aborted('SIGTERM'))).toBeNull();
    expect([interruptedExit('SIGINT'), interruptedExit('SIGTERM')]).toEqual([130, 143]);
  });
});
