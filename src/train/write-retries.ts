/**
 * The trainer's retries of failed writes (issue 17, "a full disk"): a checkpoint, export or
 * delta that fails on a filesystem error (durable-fs.ts isWriteFault: ENOSPC, EDQUOT, EIO ...;
 * its temp directory already removed) does not stop training; it is logged, emitted as a
 * `writeFailure` event (metric lionctr_train_write_failures_total{kind}) and tried again after an
 * exponential backoff: `min` seconds, doubled after each failure in a row up to `max`, back to
 * `min` after a success. Errors that are not filesystem errors (LIONCTR_DIVERGED, bugs) pass through.
 */
import type { Logger } from 'pino';
import type { WriteFailureEvent } from '../events/train-events.ts';
import { isWriteFault } from './durable-fs.ts';

/** What is written: a full export, a checkpoint, a delta export. */
export type WriteKind = WriteFailureEvent['kind'];

/** Backoff bounds between tries of a failed write, seconds (`train.writeRetrySeconds`). */
export interface RetryBackoff {
  min: number;
  max: number;
}

/** The delay after the `n`-th failure in a row (1-based): min * 2^(n-1), at most max; seconds. */
export const backoffSeconds = (b: RetryBackoff, n: number): number =>
  Math.min(b.max, b.min * 2 ** Math.max(0, Math.min(n - 1, 30)));

/** The backoff state of each kind of write of one trainer. */
export class WriteRetries {
  private readonly failures = new Map<WriteKind, { inARow: number; nextAt: number }>();

  /**
   * @param backoff the bounds, seconds.
   * @param emit receives every failure (the trainer's `writeFailure` event).
   * @param now the clock, ms (performance.now by default; tests pass their own).
   */
  constructor(
    private readonly backoff: RetryBackoff,
    private readonly logger: Logger,
    private readonly emit: (e: WriteFailureEvent) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a write of `kind` may be tried now: no failure of it waits out its backoff. */
  ready(kind: WriteKind): boolean {
    const f = this.failures.get(kind);
    return !f || this.now() >= f.nextAt;
  }

  /** Failures of `kind` in a row (0 after a success). */
  inARow(kind: WriteKind): number {
    return this.failures.get(kind)?.inARow ?? 0;
  }

  /**
   * Runs the write `fn` of `kind`. A filesystem error is logged (warn, with the error's message:
   * what, which file, which operation), emitted and scheduled for a retry; then resolves
   * `undefined`. A success clears the backoff of `kind`.
   * @returns what `fn` resolved with, or undefined when it failed on a filesystem error.
   * @throws any other error of `fn`, as it is.
   */
  async attempt<T>(kind: WriteKind, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const r = await fn();
      if (this.failures.delete(kind)) this.logger.info(`${kind} written again after failed tries`);
      return r;
    } catch (e) {
      if (!isWriteFault(e)) throw e;
      const inARow = this.inARow(kind) + 1;
      const retryInSeconds = backoffSeconds(this.backoff, inARow);
      this.failures.set(kind, { inARow, nextAt: this.now() + retryInSeconds * 1000 });
      const err = e as Error & { reason?: string; code?: string };
      const reason = err.reason ?? (err.code === 'LIONCTR_WRITE_FAILED' ? undefined : err.code);
      const ev: WriteFailureEvent = { kind, error: err.message, reason, inARow, retryInSeconds };
      this.logger.warn(
        { write: kind, reason, inARow, retryInSeconds },
        `${kind} failed (${inARow} in a row), training goes on, next try in ${retryInSeconds} s: ${err.message}`,
      );
      this.emit(ev);
      return undefined;
    }
  }
}
