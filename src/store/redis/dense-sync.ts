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
 * Keys (one hash tag, so one cluster hash slot: MGET over them is one command):
 *   `{<prefix>:dense}:w:<member>`   the member's weights, float32 little-endian, variables in order,
 *                                   expiring after staleMs (a trainer that stopped drops out);
 *   `{<prefix>:dense}:members`      sorted set of members by the wall ms of their last publish.
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

  /** Writes this trainer's weights and marks it live. @throws the client's error (Redis out of reach). */
  async publish(): Promise<void> {
    const parts = this.vars.map((v) => v.dataSync() as Float32Array);
    const buf = Buffer.alloc(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      buf.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
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

  /** Leaves the group: this member's weights and mark removed. Never throws (logs). */
  async leave(): Promise<void> {
    if (this.opts.everySteps <= 0) return;
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
