/**
 * The export lock of trainers that share rows in Redis (rows.store=redis, one rows.redis.keyPrefix):
 * of several trainers of one model, only the holder of this lock writes exports (issue 16). A
 * Redis key `<prefix>:export-lock` holding a token of its owner (host, pid, random), taken with
 * `SET key token NX PX ttl`, renewed every third of the TTL by a script that extends it only while it
 * still holds this owner's token (`PEXPIRE`), and deleted on release by the same kind of script, so
 * that a trainer never extends or deletes another's lock (the single-instance pattern of the Redis
 * docs, "Distributed Locks with Redis"). A trainer without it tries to take it at each renewal: when
 * the holder dies without releasing it, another takes over within one TTL.
 *
 * `held` is judged by the clock, not by the last answer: it is true only until the TTL counted from
 * the moment the last successful SET or PEXPIRE was sent, less a margin, so that a holder cut off
 * from Redis (or stalled) stops exporting before another can take the lock. An export that starts
 * while held and outlasts the lock's TTL can still overlap the next holder's: there is no fencing
 * token on the export directory (its versions are timestamps, each one complete; see README).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Cluster } from 'ioredis';
import type { Logger } from 'pino';

const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** How an ExportLock is named and timed. */
export interface ExportLockOptions {
  /** rows.redis.keyPrefix: the lock is `<keyPrefix>:export-lock`. */
  keyPrefix: string;
  /** Milliseconds the lock lives unless renewed (rows.redis.exportLockSeconds * 1000); renewed every ttlMs / 3. */
  ttlMs: number;
  logger: Logger;
  /** Called with the new state each time `held` changes as seen by a renewal (for the metric). */
  onChange?: (held: boolean) => void;
}

/** The export lock of one trainer (see the module doc). start() begins trying; release() ends. */
export class ExportLock {
  readonly key: string;
  /** This owner's token: `host:pid:random`. */
  readonly token = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  /** Wall ms until which this trainer may export (0: not held). */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private lastSeen = false;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: ExportLockOptions,
  ) {
    this.key = `${opts.keyPrefix}:export-lock`;
  }

  /** True while this trainer holds the lock with a margin (a tenth of the TTL) to spare. */
  get held(): boolean {
    return Date.now() < this.validUntil - this.opts.ttlMs / 10;
  }

  /** Tries to take the lock now, then keeps renewing (or trying) every ttlMs / 3. Resolves after the first try. */
  async start(): Promise<boolean> {
    await this.tick();
    if (!this.held) this.opts.onChange?.(false); // the metric shows 0, not nothing, while another holds it
    this.timer = setInterval(() => void this.tick(), Math.max(10, this.opts.ttlMs / 3));
    this.timer.unref();
    return this.held;
  }

  /**
   * One renewal (when held) or attempt (when not): never throws; a Redis error is logged and
   * leaves `held` to run out by the clock.
   */
  tick(): Promise<void> {
    this.ticking ??= this.renewOrTake().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async renewOrTake(): Promise<void> {
    if (this.stopped) return;
    const sent = Date.now(),
      ttl = Math.round(this.opts.ttlMs);
    try {
      const ok =
        this.validUntil > sent
          ? (await this.answer(this.cluster.eval(RENEW, 1, this.key, this.token, ttl))) === 1
          : (await this.answer(this.cluster.set(this.key, this.token, 'PX', ttl, 'NX'))) === 'OK';
      // stopped meanwhile: the release may already have run, so this answer must not set a lock it deletes
      this.validUntil = ok && !this.stopped ? sent + ttl : 0;
    } catch (e) {
      this.opts.logger.warn(
        { err: (e as Error).message, key: this.key },
        'export lock: Redis did not answer; exports stop when the lock runs out',
      );
    }
    this.noteChange();
  }

  /** `p`, or a rejection after one TTL (an answer that late is of no use: the lock has run out by then). */
  private async answer<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.ttlMs} ms`)), this.opts.ttlMs);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
      p.catch(() => {}); // a late rejection is this one's
    }
  }

  /** Logs and reports a change of `held` (taken, lost, released). */
  private noteChange(): void {
    const now = this.held;
    if (now === this.lastSeen) return;
    this.lastSeen = now;
    const { logger, onChange } = this.opts;
    if (now) logger.info({ key: this.key, token: this.token }, 'export lock taken: this trainer writes the exports');
    else if (this.stopped) logger.info({ key: this.key }, 'export lock released');
    else
      logger.warn(
        { key: this.key, token: this.token },
        'export lock lost (or not renewed in time): this trainer stops exporting; another trainer may take it',
      );
    onChange?.(now);
  }

  /** Stops renewing and deletes the lock when this trainer still holds it (never another's). Never throws. */
  async release(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // a renewal or take in flight may leave the key this owner's although its answer, arriving after `stopped`,
    // no longer sets validUntil: the delete is sent then too (the script deletes only this owner's token). Judged
    // after the wait, a release during a renewal left the lock in Redis until its TTL ran out
    const mayHold = this.validUntil > Date.now() || this.ticking !== null;
    await this.ticking;
    this.validUntil = 0;
    if (mayHold) {
      try {
        await this.answer(this.cluster.eval(RELEASE, 1, this.key, this.token));
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message, key: this.key }, 'export lock: release failed; it expires');
      }
    }
    this.noteChange();
  }
}
