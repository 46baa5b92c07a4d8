/**
 * Trainer and CLI processes of the Kafka tests: the `--set` list of a trainer on a topic,
 * a `lionctr train` child process (tracked by the test's fixture, so it never outlives the
 * test), and a synchronous CLI run. Children get the environment without LIONCTR_* variables.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import type { Fixture } from './fixture.ts';
import { resolve } from 'node:path';

/** This process's environment without LIONCTR_* variables (config comes from --set only). */
export const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));

/** `--set` overrides for a trainer on `topic` (tiny model, small batches, no exports between). */
export function kafkaTrainerSets(
  brokers: string[],
  topic: string,
  dir: string,
  extra: Record<string, unknown> = {},
): string[] {
  const o: Record<string, unknown> = {
    'source.kind': 'kafka',
    'kafka.brokers': brokers,
    'kafka.topic': topic,
    'kafka.deadLetterTopic': `${topic}.dlq`,
    'kafka.groupId': `${topic}-trainers`,
    'kafka.format': 'criteo',
    'kafka.sessionTimeoutMs': 6000,
    'kafka.heartbeatIntervalMs': 500,
    'train.batchSize': 256,
    'model.hidden': [16],
    'schema.embeddingDim': 4,
    'train.progressSeconds': 0,
    'train.metricsWindow': 2000,
    'export.dir': `${dir}/exports`,
    'export.intervalSeconds': 0,
    'checkpoint.dir': `${dir}/checkpoints`,
    'checkpoint.intervalSeconds': 1,
    'train.auditLog': `${dir}/audit.jsonl`,
    'log.level': 'warn',
    ...extra,
  };
  return Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
}

/**
 * A `lionctr <args>` child process (bin/lionctr.mjs, `args` after it) in `cwd` (default: here),
 * tracked by `fx`; `stderr()` is what it wrote to stderr so far, `exited` resolves with its exit
 * code (null when killed) and its stderr and stdout.
 */
export function spawnLionctr(args: string[], fx: Fixture, cwd?: string) {
  const bin = resolve(import.meta.dirname, '../../bin/lionctr.mjs');
  const c = fx.track(spawn('node', [bin, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let err = '',
    out = '';
  c.stderr!.on('data', (d) => {
    err += d;
  });
  c.stdout!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; err: string; out: string }>((res) =>
    c.on('exit', (code) => res({ code, err, out })),
  );
  return { c, exited, stderr: () => err };
}

/** A `lionctr train` child process with these `--set`s, tracked by `fx` (see spawnLionctr). */
export function spawnTrainer(sets: string[], fx: Fixture) {
  return spawnLionctr(['train', ...sets.flatMap((s) => ['--set', s])], fx);
}

/** Runs `lionctr <args>` to its end (at most 90 s), output as UTF-8. */
export const cli = (...args: string[]): SpawnSyncReturns<string> =>
  spawnSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', env: cleanEnv(), timeout: 90_000 });
