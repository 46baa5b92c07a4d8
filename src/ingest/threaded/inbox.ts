/**
 * The training side's inbox of the ingest thread's messages: stream messages (batch, end,
 * error) in arrival order for batches(), one reply at a time for a request (checkpointed,
 * closed), and the thread's death (an uncaught error, an exit) failing both.
 * @module
 */
import { LionctrError } from '../../errors.ts';
import type { FromIngest } from './protocol.ts';

type Stream = Extract<FromIngest, { type: 'batch' | 'end' | 'error' | 'ready' }>;
type Reply = Extract<FromIngest, { type: 'checkpointed' | 'closed' }>;

/** Messages of one ingest thread, waited for (see the module doc). */
export class Inbox {
  private readonly stream: Stream[] = [];
  private waiter: (() => void) | null = null;
  private replyTo: { ok: (m: Reply) => void; fail: (e: Error) => void } | null = null;
  /** Why the thread is gone (null while alive). */
  dead: Error | null = null;

  /** A message arrived. */
  push(m: Stream | Reply): void {
    if (m.type === 'checkpointed' || m.type === 'closed') {
      const r = this.replyTo;
      this.replyTo = null;
      r?.ok(m);
      return;
    }
    this.stream.push(m);
    this.wake();
  }

  /** The thread is gone (`err`: why); waiters fail with it. */
  die(err: Error): void {
    this.dead ??= err;
    this.replyTo?.fail(this.dead);
    this.replyTo = null;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /**
   * The next stream message, or null once `signal` has aborted (also when messages wait).
   * @throws the thread's death error when it is gone and nothing is left.
   */
  async next(signal?: AbortSignal): Promise<Stream | null> {
    for (;;) {
      if (signal?.aborted) return null; // a stop yields nothing more, not even a batch already here
      const m = this.stream.shift();
      if (m) return m;
      if (this.dead) throw this.dead;
      await new Promise<void>((res) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          res();
        };
        this.waiter = done;
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /**
   * Waits for the reply to a request just sent.
   * @throws the thread's death error; LionctrError LIONCTR_INTERNAL when a reply is already awaited.
   */
  reply(): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.replyTo) throw new LionctrError('LIONCTR_INTERNAL', 'two requests to the ingest thread at once');
    return new Promise((ok, fail) => {
      this.replyTo = { ok, fail };
    });
  }
}
