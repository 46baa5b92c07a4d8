/**
 * Config section `rows`: where the embedding rows live while training. `local` (the default):
 * in this process's tables, as always. `redis`: in a Redis Cluster (redis-row-access.ts), pulled
 * into the local tables before each step and pushed back after it (src/model/row-sync.ts), so
 * that trainers on several machines can share them (issue 16).
 * @module
 */
import { oneOf, type ConfigValues } from '../../config/formats.ts';

/** Convict schema of `rows.*`. */
export const rowsConfig = {
  store: {
    doc:
      "Where embedding rows live while training: local (this process's tables) or redis (a Redis Cluster, " +
      'rows.redis.*: each step pulls its rows from it and pushes the updated rows back)',
    ...oneOf(['local', 'redis'] as const, 'local'),
  },
  redis: {
    nodes: {
      doc: 'Redis Cluster nodes to start from, host:port (any reachable ones; the client learns the rest)',
      format: 'string-list',
      default: ['127.0.0.1:17000'],
    },
    keyPrefix: {
      doc:
        'Prefix of the row keys (<prefix>:<slot>:<id as 16 hex digits>); trainers that share rows use the ' +
        'same one, models of another shape need another',
      format: String,
      default: 'lionctr',
    },
    ttlSeconds: {
      doc:
        'Rows not written for this many seconds (wall clock) expire in Redis (SET ... PX); 0 = never. ' +
        'It replaces model.eviction.ttlSeconds (event time, local tables) for the shared rows',
      format: 'nonneg-number',
      default: 0,
    },
    keepLocal: {
      doc:
        'Keep pulled rows in the local tables after a step (a cache that the next pull refreshes; ' +
        'checkpoints and exports then hold the rows this trainer has seen); false = the local tables hold ' +
        "one batch's rows only (exports hold no rows)",
      format: Boolean,
      default: true,
    },
    exportLockSeconds: {
      doc:
        'Seconds the export lock (<prefix>:export-lock) lives unless its holder renews it (every third of it): ' +
        'of the trainers with an export dir that share this key prefix only the holder writes exports; ' +
        'another takes over within this long after the holder dies',
      format: 'nonneg-number',
      default: 10,
    },
    denseSyncSteps: {
      doc:
        "Every this many steps a trainer publishes its dense tower's weights to Redis and sets them to the " +
        'mean of the towers that the trainers sharing this key prefix published (its Lion momentum stays its own); ' +
        '0 = each trainer keeps its own tower',
      format: 'nat',
      default: 0,
    },
    denseMode: {
      doc:
        "With denseSyncSteps: average (each sync sets the tower to the mean of the live trainers' towers) or sum " +
        "(one shared tower: the first trainer's start plus every trainer's displacements, as on an asynchronous " +
        'parameter server; N trainers then move it as far as one trainer training all their batches)',
      ...oneOf(['average', 'sum'] as const, 'average'),
    },
    denseStaleSeconds: {
      doc:
        'With denseSyncSteps: a trainer whose last published tower is older than this many seconds is left ' +
        'out of the mean (its entry expires); larger than the time K steps take',
      format: 'nonneg-number',
      default: 120,
    },
    update: {
      doc:
        "How a step writes its rows back: merge (a Lua script adds the step's change to the row as Redis has it " +
        'now, so steps of several trainers on one row all count; src/store/redis/merge-rows.ts) or overwrite ' +
        '(the rows as the step left them: the later write of a row wins)',
      ...oneOf(['merge', 'overwrite'] as const, 'merge'),
    },
    commandTimeoutSeconds: {
      doc: 'Seconds a lookup or update may wait for Redis (retries through a failover included) before it fails',
      format: 'nonneg-number',
      default: 30,
    },
  },
};

/** The resolved `rows` section. */
export type RowsSection = ConfigValues<typeof rowsConfig>;
