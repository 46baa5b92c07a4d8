/**
 * Dense tower averaging of trainers that share rows in Redis (rows.redis.denseSyncSteps = K > 0,
 * issue 16): every K steps a trainer publishes its tower's weights to Redis and sets its tower to the
 * element-wise mean of the towers that the live trainers of its key prefix last published (its own
 * just published included). Averaging is asynchronous (trainers are at different steps; each takes
 * the others' latest), as in local SGD / model averaging (McMahan et al. 2017, FedAvg; Lin et al.
 * 2020, "Don't Use Large Mini-Batches, Use Local SGD"). Only the weights are averaged: each trainer's
 * Lion momentum stays its own (an EMA of its own gradients; Lion's step is sign(beta1 m + (1-beta1) g),
 * so a momentum averaged over trainers that see other partitions would step along none of them;
 * DiLoCo, Douillard et al. 2023, likewise keeps the inner optimizer's state per worker).
 *
 *
 * Or (mode `sum`, rows.redis.denseMode) the tower is one shared model, as on an asynchronous parameter
 * server: every K steps a trainer adds its displacement since its last sync (its tower now less the
 * tower it took then) to its own running contribution, publishes it, and takes the group's tower:
 * T0 + the sum of every member's contribution (T0: the tower the first member started from). So each
 * trainer's steps all count, as each one's row steps do with rows.redis.update=merge: N trainers move
 * the tower N steps per round of N batches, as one trainer would, where averaging moves it about one.
 *
 * Keys (one hash tag, so one cluster hash slot: MGET over them is one command):
 *   `{<prefix>:dense}:w:<member>`   average: the member's weights, float32 little-endian, variables in
 *                                   order, expiring after staleMs (a trainer that stopped drops out);
 *   `{<prefix>:dense}:members`      average: sorted set of members by the wall ms of their last publish;
 *   `{<prefix>:dense}:t0`           sum: T0 (float32, as above), set once (SET NX);
 *   `{<prefix>:dense}:d:<member>`   sum: the member's contribution (float32), never expiring: it is part
 *                                   of the model (a restarted trainer is a new member; its old
 *                                   contribution stays, its steps after its last publish are lost);
 *   `{<prefix>:dense}:contributors` sum: the set of members with a contribution.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';

/** How a DenseSync names and times its keys. */
export interface DenseSyncOptions {
  keyPrefix: string;
  /** Sync every this many steps (afterStep calls); 0 = never. */
  everySteps: number;
  /** A member whose last publish is older than this (ms) is left out of the mean. */
  staleMs: number;
  /** Milliseconds a sync may take before it fails (0 = no limit; rows.redis.commandTimeoutSeconds). */
  timeoutMs?: number;
  /** average (default): the mean of the members' towers; sum: T0 + every member's displacements. */
  mode?: 'average' | 'sum';
  logger: Logger;
}

/** Tower averaging through Redis of one trainer (see the module doc). */
export class DenseSync {
  readonly member = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly tag: string;
  private steps = 0;
  /** Syncs done, and members averaged at the last one. */
  syncs = 0;
  lastMembers = 0;
  /** sum mode: the tower when this member last took the group's (null before begin()), and its contribution. */
  private base: Float32Array | null = null;
  private contribution: Float64Array | null = null;

  /** @param vars the tower's variables (DenseTower.vars), averaged in place. */
  constructor(
    private readonly cluster: Cluster,
    private readonly vars: readonly tf.Variable[],
    private readonly opts: DenseSyncOptions,
  ) {
    this.tag = `{${opts.keyPrefix}:dense}`;
  }

  private weightsKey = (member: string) => `${this.tag}:w:${member}`;

  /**
   * After each step: every `everySteps`-th call publishes and averages.
   * @throws LionctrError LIONCTR_UNAVAILABLE when Redis fails or does not answer within timeoutMs.
   */
  async afterStep(): Promise<void> {
    if (this.opts.everySteps <= 0 || ++this.steps % this.opts.everySteps !== 0) return;
    const t = this.opts.timeoutMs ?? 0;
    let timer: NodeJS.Timeout | undefined;
    const sync = this.publish().then(() => this.average());
    try {
      const late = new Promise<never>((_, reject) => {
        if (t > 0) timer = setTimeout(() => reject(new Error(`no answer within ${t} ms`)), t);
      });
      await Promise.race([sync, late]);
    } catch (e) {
      sync.catch(() => {}); // a late failure is this one's
      throw new LionctrError(
        'LIONCTR_UNAVAILABLE',
        `Redis dense sync (${this.tag}) failed at step ${this.steps}: ${(e as Error).message}`,
        { where: 'rows.redis.nodes', cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The tower's weights, variables in order, as one float32 array. */
  private flat(): Float32Array {
    const parts = this.vars.map((v) => v.dataSync() as Float32Array);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * sum mode: marks the tower as it is now as this member's start (call it before the first step, after
   * a checkpoint is restored) and offers it as T0 when the group has none. No-op in average mode.
   * @throws the client's error.
   */
  async begin(): Promise<void> {
    if (this.opts.mode !== 'sum' || this.base) return;
    this.base = this.flat();
    this.contribution = new Float64Array(this.base.length);
    await this.cluster.set(`${this.tag}:t0`, bytesOf(this.base), 'NX');
  }

  /**
   * Writes this trainer's weights and marks it live (average), or adds its displacement since the last
   * sync to its contribution and writes that (sum; begin() first, else it begins now).
   * @throws the client's error (Redis out of reach).
   */
  async publish(): Promise<void> {
    if (this.opts.mode === 'sum') return this.publishSum();
    const buf = bytesOf(this.flat());
    const now = Date.now();
    await Promise.all([
      this.cluster.set(this.weightsKey(this.member), buf, 'PX', Math.round(this.opts.staleMs)),
      this.cluster.zadd(`${this.tag}:members`, now, this.member),
    ]);
  }

  /**
   * Sets the tower to the mean (in float64, stored as float32) of the live members' published
   * weights; one of another size (a model of another shape under the prefix) is left out and logged.
   * @returns the members averaged (0: none published yet, the tower is left as it is).
   * @throws the client's error.
   */
  async average(): Promise<number> {
    if (this.opts.mode === 'sum') return this.takeSum();
    const members = `${this.tag}:members`;
    const live = await this.cluster.zrangebyscore(members, Date.now() - this.opts.staleMs, '+inf');
    await this.cluster.zremrangebyscore(members, '-inf', `(${Date.now() - this.opts.staleMs}`);
    if (live.length === 0) return 0;
    const values = await this.cluster.mgetBuffer(...live.map(this.weightsKey));
    const sizes = this.vars.map((v) => v.size),
      total = sizes.reduce((a, b) => a + b, 0);
    const sum = new Float64Array(total);
    let n = 0;
    for (const [i, v] of values.entries()) {
      if (!v) continue; // expired between the two reads
      if (v.length !== total * 4) {
        this.opts.logger.warn(
          { member: live[i], bytes: v.length, want: total * 4 },
          'dense sync: tower of another size',
        );
        continue;
      }
      const f = new Float32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.length));
      for (let k = 0; k < total; k++) sum[k] += f[k];
      n++;
    }
    if (n === 0) return 0;
    let at = 0;
    for (const [j, v] of this.vars.entries()) {
      const mean = new Float32Array(sizes[j]);
      for (let k = 0; k < sizes[j]; k++) mean[k] = sum[at + k] / n;
      at += sizes[j];
      tf.tidy(() => v.assign(tf.tensor(mean, v.shape)));
    }
    this.syncs++;
    this.lastMembers = n;
    return n;
  }

  private async publishSum(): Promise<void> {
    if (!this.base || !this.contribution) return this.begin();
    const now = this.flat(),
      c = this.contribution;
    for (let k = 0; k < c.length; k++) c[k] += now[k] - this.base[k];
    await Promise.all([
      this.cluster.set(`${this.tag}:d:${this.member}`, bytesOf(Float32Array.from(c))),
      this.cluster.sadd(`${this.tag}:contributors`, this.member),
    ]);
  }

  /** sum mode: sets the tower to T0 + every contribution (float64 sum); the members summed (0: no T0 yet). */
  private async takeSum(): Promise<number> {
    const members = await this.cluster.smembers(`${this.tag}:contributors`);
    const total = this.vars.reduce((n, v) => n + v.size, 0);
    const values = await this.cluster.mgetBuffer(`${this.tag}:t0`, ...members.map((m) => `${this.tag}:d:${m}`));
    if (!values[0] || values.some((v) => v && v.length !== total * 4)) {
      if (values[0]) this.opts.logger.warn({ want: total * 4 }, 'dense sync: a tower of another size under the prefix');
      return 0;
    }
    const sum = new Float64Array(total);
    let n = 0;
    for (const v of values) {
      if (!v) continue;
      const f = new Float32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.length));
      for (let k = 0; k < total; k++) sum[k] += f[k];
      n++;
    }
    const tower = Float32Array.from(sum);
    let at = 0;
    for (const v of this.vars) {
      const part = tower.subarray(at, at + v.size);
      at += v.size;
      tf.tidy(() => v.assign(tf.tensor(part, v.shape)));
    }
    if (this.base) this.base = tower;
    this.syncs++;
    this.lastMembers = n - 1;
    return n - 1;
  }

  /** Leaves the group: this member's weights and mark removed (average; a sum's contribution stays). Never throws. */
  async leave(): Promise<void> {
    if (this.opts.everySteps <= 0 || this.opts.mode === 'sum') return;
    try {
      await Promise.all([
        this.cluster.del(this.weightsKey(this.member)),
        this.cluster.zrem(`${this.tag}:members`, this.member),
      ]);
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message }, 'dense sync: leaving failed; the entry expires');
    }
  }
}

/** The bytes of a float32 array (little-endian on the hosts the row store allows). */
function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
