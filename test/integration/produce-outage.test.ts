/**
 * `lionctr produce` with no broker in reach (issue 17): it retries with backoff up to
 * --broker-wait seconds, then exits 3 with LIONCTR_BROKER_UNAVAILABLE (before: LIONCTR_BAD_INPUT
 * exit 2 mid-replay, LIONCTR_UNAVAILABLE exit 1 after ~20 s at the start); and when the broker
 * becomes reachable within the deadline (a TCP proxy to the test broker starts on the port it
 * was pointed at), the replay goes through: every line in the topic once.
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { createTopic, describeKafka, kafkaBrokers, readAll, uniqueTopic } from '../helpers/kafka.ts';
import { syntheticCriteoLines, writeLines } from '../helpers/kafka-data.ts';
import { cleanEnv } from '../helpers/kafka-process.ts';
import { freePort, until } from '../helpers/run-process.ts';

const fx = useFixture();

/**
 * `lionctr produce <args>` as a tracked child: `done` resolves with its exit status, stderr,
 * stdout and wall time (s); `stderr()` is its stderr so far.
 */
function produce(args: string[]) {
  const t0 = Date.now();
  const c = fx.track(spawn('node', ['bin/lionctr.mjs', 'produce', ...args], { env: cleanEnv() }));
  let err = '',
    out = '';
  c.stderr.on('data', (d) => {
    err += d;
  });
  c.stdout.on('data', (d) => {
    out += d;
  });
  const done = new Promise<{ status: number | null; err: string; out: string; seconds: number }>((res) =>
    c.on('exit', (status) => res({ status, err, out, seconds: (Date.now() - t0) / 1000 })),
  );
  return { done, stderr: () => err };
}

describe('lionctr produce, no broker in reach', () => {
  it('retries up to --broker-wait, then exits 3 with LIONCTR_BROKER_UNAVAILABLE', async () => {
    const dir = fx.tempDir('prodout');
    const file = writeLines(join(dir, 'clicks.tsv'), syntheticCriteoLines(10));
    const port = await freePort();
    const args = ['--input', file, '--format', 'criteo', '--topic', 't', '--brokers', `127.0.0.1:${port}`];
    const r = await produce([...args, '--broker-wait', '3']).done;
    console.log(`produce with no broker: exit ${r.status} after ${r.seconds.toFixed(1)} s`);
    expect(r.status, r.err).toBe(3);
    expect(r.err).toMatch(
      /lionctr: \[LIONCTR_BROKER_UNAVAILABLE\] looking up topic "t": no Kafka broker reachable at 127\.0\.0\.1:\d+ for/,
    );
    expect(r.seconds).toBeLessThan(30); // the deadline (3 s) plus start-up and one last try
  }, 90_000);
});

describeKafka('lionctr produce, broker back within the deadline', () => {
  it('goes through once the broker is reachable: every line in the topic once', async () => {
    const brokers = kafkaBrokers()!;
    const [host, bport] = brokers[0].split(':');
    const dir = fx.tempDir('prodback');
    const lines = syntheticCriteoLines(200);
    const file = writeLines(join(dir, 'clicks.tsv'), lines);
    const topic = uniqueTopic('prodback');
    await createTopic(brokers, topic, 2);
    const port = await freePort();
    const args = ['--input', file, '--format', 'criteo', '--topic', topic, '--brokers', `127.0.0.1:${port}`];
    const run = produce([...args, '--broker-wait', '60']);
    // it fails and retries meanwhile
    await until('a failed try', () => /Kafka unreachable/.test(run.stderr()), 60_000);
    const socks = new Set<Socket>();
    const proxy = createServer((client) => {
      const up = createConnection(Number(bport), host);
      for (const s of [client, up]) {
        socks.add(s);
        s.on('error', () => {});
      }
      client.pipe(up).pipe(client);
    });
    await new Promise<void>((res) => proxy.listen(port, '127.0.0.1', res));
    try {
      const r = await run.done;
      expect(r.status, r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ topic, messages: 200, partitions: 2 });
      expect(r.err).toMatch(/looking up topic [^\n]+: the broker is back after \d+ failed tries/);
      const got = await readAll(brokers, topic);
      expect(got.length).toBe(200);
      expect(new Set(got.map((m) => m.value.toString())).size).toBe(new Set(lines).size);
    } finally {
      for (const s of socks) s.destroy();
      await new Promise<void>((res) => proxy.close(() => res()));
    }
  }, 120_000);
});
