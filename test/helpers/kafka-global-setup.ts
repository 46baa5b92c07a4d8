/**
 * vitest globalSetup: makes a Kafka broker available to the broker tests (see kafka.ts).
 *
 * 1. LIONCTR_TEST_KAFKA_BROKERS set (comma list) to other than the local 127.0.0.1:19092:
 *    that broker is used as it is (and never stopped); when it does not answer, the broker
 *    tests are skipped saying so (under CI=true setup throws), nothing is started.
 * 2. Else, the local broker at 127.0.0.1:19092 when it answers; else, with `java` on PATH and
 *    `mvn` on PATH (or the jars already in ops/kafka/target/libs),
 *    `ops/kafka/start.sh 19092` starts one (the first time mvn fetches the jars, about a minute);
 *    teardown stops it with ops/kafka/stop.sh once no other vitest run on this machine uses it.
 * 3. Else the broker tests are skipped, except under CI=true, where setup throws (the run fails).
 * LIONCTR_TEST_KAFKA=off skips the broker tests without probing or starting anything.
 *
 * The result reaches the test workers through `provide`: `kafkaBrokers` (string list joined by
 * commas, or null) and `kafkaSkipReason`.
 *
 * Concurrent vitest runs (two engineers, one checkout) share one broker: a lock directory and
 * one marker file per live run under $TMPDIR/lionctr-test-kafka-<port>/ decide who starts and
 * who stops it. A broker started by a run that died is stopped by the next run's teardown.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';
import { processAlive } from '../../src/train/dir-lock.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** Bootstrap brokers joined by commas, or null when Kafka is unavailable. */
    kafkaBrokers: string | null;
    /** Why the broker tests are skipped ('' when they run). */
    kafkaSkipReason: string;
  }
}

const PORT = 19092;
const OPS = fileURLToPath(new URL('../../ops/kafka', import.meta.url));
const STATE = join(tmpdir(), `lionctr-test-kafka-${PORT}`);
const USERS = join(STATE, 'users');
const OWNED = join(STATE, 'started-by-tests');
const LOCK = `${STATE}.lock`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onPath = (cmd: string) => spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/**
 * True when a Kafka broker at `brokers` answers a metadata request within about `timeoutMs`
 * (kafkajs admin describeCluster, retried every 500 ms). Never throws.
 */
export async function brokerAnswers(brokers: string[], timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = new Kafka({
      brokers,
      clientId: 'lionctr-test-probe',
      connectionTimeout: 1000,
      requestTimeout: 2000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      /* not (yet) up */
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (Date.now() + 500 >= deadline) return false;
    await sleep(500);
  }
}

/** Cross-process lock on STATE (mkdir is atomic); a lock older than 5 minutes is stale. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Runs an ops/kafka script, its output on our stderr. @returns its exit status. */
const ops = (script: string, ...args: string[]) =>
  spawnSync('bash', [join(OPS, script), ...args], { stdio: ['ignore', 2, 2] }).status ?? 1;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = (process.env.LIONCTR_TEST_KAFKA_BROKERS ?? `127.0.0.1:${PORT}`)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ci = process.env.CI === 'true';
  const give = (brokers: string[] | null, reason = '') => {
    project.provide('kafkaBrokers', brokers ? brokers.join(',') : null);
    project.provide('kafkaSkipReason', reason);
  };
  const noTeardown = async () => {};

  if (process.env.LIONCTR_TEST_KAFKA === 'off') {
    give(null, 'LIONCTR_TEST_KAFKA=off');
    return noTeardown;
  }
  const local = [`127.0.0.1:${PORT}`];
  if (wanted.join(',') !== local[0]) {
    // a broker the user named: use it or say it is not there; starting the local one
    // instead would test against something the user did not ask for
    if (await brokerAnswers(wanted)) {
      give(wanted);
      return noTeardown;
    }
    const failure = `no broker answers at LIONCTR_TEST_KAFKA_BROKERS=${wanted.join(',')}`;
    if (ci) throw new Error(`CI=true but no Kafka broker: ${failure}`);
    give(null, `${failure} (unset it to use or start the local broker at ${local[0]}; set CI=true to make this fail)`);
    return noTeardown;
  }

  // The local broker: use it when it answers (registering as a user, so that a run that
  // started it does not stop it under us), else start it when java/mvn allow.
  const libs = join(OPS, 'target/libs');
  const canStart = onPath('java') && (onPath('mvn') || (existsSync(libs) && readdirSync(libs).length > 0));
  const failure = await withLock(async () => {
    if (!(await brokerAnswers(local))) {
      if (!canStart) return `no broker at ${wanted.join(',')} and java/mvn not found`;
      const t0 = Date.now();
      const rc = ops('start.sh', String(PORT));
      if (rc !== 0 || !(await brokerAnswers(local, 30_000)))
        return (
          `no broker at ${wanted.join(',')} and ops/kafka/start.sh ${PORT} failed ` +
          `(exit ${rc}; see ops/kafka/data/stdout.log)`
        );
      mkdirSync(STATE, { recursive: true });
      writeFileSync(OWNED, String(process.pid));
      process.stderr.write(
        `kafka (test): broker started at ${local[0]} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    mkdirSync(USERS, { recursive: true });
    writeFileSync(join(USERS, String(process.pid)), '');
    return '';
  });
  if (failure) {
    if (ci) throw new Error(`CI=true but no Kafka broker: ${failure}`);
    give(null, `${failure} (set CI=true to make this fail)`);
    return noTeardown;
  }
  give(local);

  return () =>
    withLock(async () => {
      rmSync(join(USERS, String(process.pid)), { force: true });
      const others = readdirSync(USERS).filter((f) => {
        if (processAlive(Number(f))) return true;
        rmSync(join(USERS, f), { force: true });
        return false;
      });
      if (others.length === 0 && existsSync(OWNED) && ops('stop.sh') === 0) rmSync(OWNED, { force: true });
      // the last run leaves nothing behind in the temp dir
      if (others.length === 0 && !existsSync(OWNED)) rmSync(STATE, { recursive: true, force: true });
    });
}
