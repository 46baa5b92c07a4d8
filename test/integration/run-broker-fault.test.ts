/**
 * Issue 17, "`run` stops serving whenever its trainer fails", with an unreachable broker, on a
 * real `lionctr run` process over real HTTP: its Kafka source points at a closed port while an
 * export from an earlier run is on disk. Wanted: the endpoint answers every prediction (0 failed
 * requests) while the trainer fails; /readyz stays 200 and says `training: "down: ..."`;
 * lionctr_train_up is 0 and lionctr_train_restarts_total counts the restarts; and when the
 * port comes alive (a TCP proxy to the test broker), the restarted trainer trains the topic by
 * itself and a newer version is served. Before the fix, `run` exited 2 after ~20 s.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka, kafkaBrokers } from '../helpers/kafka.ts';
import { onePartitionTopic, produceCriteo, syntheticCriteoLines } from '../helpers/kafka-data.ts';
import { cli } from '../helpers/kafka-process.ts';
import { freePort, get, metric, predictLoop, quickRunSets, spawnRun, until } from '../helpers/run-process.ts';

const fx = useFixture();

/** A TCP proxy on 127.0.0.1:`port` to `target` (host:port); `close()` ends it and its connections. */
async function proxy(port: number, target: string): Promise<{ close(): Promise<void> }> {
  const [host, tport] = target.split(':');
  const socks = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = createConnection(Number(tport), host);
    for (const s of [client, up]) {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => socks.delete(s));
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
  return {
    close: () =>
      new Promise<void>((res) => {
        for (const s of socks) s.destroy();
        server.close(() => res());
      }),
  };
}

describeKafka('run with an unreachable broker', () => {
  it('serves every prediction while its trainer fails and restarts it until the broker is reachable', async () => {
    const brokers = kafkaBrokers()!;
    const dir = fx.tempDir('runbroker');
    const { topic, file } = await onePartitionTopic('runbroker', syntheticCriteoLines(4000), dir);
    const exportDir = join(dir, 'exports');
    const model = { 'train.batchSize': 256, 'model.hidden': [16], 'schema.embeddingDim': 4 };
    const kafka = { 'kafka.topic': topic, 'kafka.groupId': `${topic}-trainers`, 'kafka.format': 'criteo' };
    const sets = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    await produceCriteo(sets({ 'kafka.brokers': brokers, ...kafka }), topic, file, 0);
    // an export from an earlier run (no checkpoint: the Kafka run starts afresh on the topic)
    const pre = cli(
      'train',
      '--max-examples',
      '2000',
      ...sets({ ...model, 'export.dir': exportDir, 'checkpoint.enabled': false, 'log.level': 'warn' }).flatMap((s) => [
        '--set',
        s,
      ]),
    );
    expect(pre.status, pre.stderr).toBe(0);

    const closed = await freePort(); // nothing listens there until the proxy does
    const port = await freePort();
    const run = spawnRun(
      quickRunSets(port, {
        ...model,
        ...kafka,
        'source.kind': 'kafka',
        'kafka.brokers': [`127.0.0.1:${closed}`],
        'kafka.deadLetterTopic': `${topic}.dlq`,
        'export.dir': exportDir,
        'run.restartBackoffSeconds.min': 3,
        'run.restartBackoffSeconds.max': 6,
      }),
      fx,
    );
    // a condition that fails at once when `run` has exited (the defect: it did after ~20 s)
    const live = (cond: () => Promise<boolean>) => async () => {
      if (run.c.exitCode !== null) throw new Error(`lionctr run exited (${run.c.exitCode}): ${run.log().slice(-1500)}`);
      return cond();
    };
    await until('the earlier export served', async () => (await get(port, '/readyz')).status === 200, 60_000);
    const before = Number((await get(port, '/readyz')).body.model_version);
    const load = predictLoop(port);

    // the trainer cannot reach Kafka (~20 s of connection retries), fails, and is restarted after 3 s
    let down = await get(port, '/readyz');
    await until(
      '/readyz saying training is down',
      live(async () => {
        down = await get(port, '/readyz');
        return String(down.body.training).startsWith('down:');
      }),
      120_000,
    );
    const upWhileDown = await metric(port, 'lionctr_train_up');
    await until(
      'a restart',
      live(async () => (await metric(port, 'lionctr_train_restarts_total')) >= 1),
      30_000,
    );

    // the broker becomes reachable: the restarted trainer trains the topic, a newer version is served
    const p = await proxy(closed, brokers[0]);
    try {
      await until(
        'a version trained from Kafka served',
        live(async () => Number((await get(port, '/readyz')).body.model_version) > before),
        150_000,
      );
      const upAfter = await metric(port, 'lionctr_train_up');
      const restarts = await metric(port, 'lionctr_train_restarts_total');
      const stats = await load.stop();
      const after = await get(port, '/readyz');
      run.c.kill('SIGTERM');
      const code = await run.exited;
      console.log(
        `run with an unreachable broker: ${stats.requests} predictions, ${stats.failed} failed; ${restarts} ` +
          `restarts; /readyz while down: ${JSON.stringify(down.body)}; after: ${JSON.stringify(after.body)}`,
      );
      expect(stats.failed, `failed predictions: ${stats.reasons.join(' | ')}`).toBe(0);
      expect(down.status).toBe(200);
      expect(String(down.body.training)).toMatch(
        /^down: \[LIONCTR_BROKER_UNAVAILABLE\] cannot reach Kafka at 127\.0\.0\.1:\d+.*; restart 1 in \d s$/,
      );
      expect(run.log()).toMatch(/the trainer failed \(\d+ in a row\); serving goes on/);
      expect(upWhileDown).toBe(0);
      expect(upAfter).toBe(1);
      expect(after.body.training).toBe('up');
      expect(code, run.log().slice(-2000)).toBe(0);
    } finally {
      await p.close();
    }
  }, 360_000);
});
