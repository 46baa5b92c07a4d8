/**
 * Issue 17, "broker stop/kill during training": a `lionctr train` process on a Kafka topic of a
 * broker of this test's own (ops/kafka/start.sh on a free port pair, its data in a temp dir,
 * never the shared broker on 19092), while it trains: (a) the broker stopped gracefully
 * (stop.sh) for ~10 s and restarted on the same data (--keep), (b) the broker's java process
 * killed -9, left down 10 s and restarted on the same data. Messages are produced before, and
 * after each restart.
 * Wanted (what src/ingest/kafka/connection.ts promises: the consumer is restarted with backoff
 * so that training lives on): the one trainer process never exits before its last message
 * (no restarts of it), and its audit log shows every good message trained exactly once.
 * Needs java and the broker jars (ops/kafka/target/libs); without them the test is skipped,
 * except under CI=true, where it fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { createTopic, uniqueTopic } from '../helpers/kafka.ts';
import { exactlyOnce, goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { criteoWithBadLines, produceCriteo } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets, spawnTrainer } from '../helpers/kafka-process.ts';

const fx = useFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OPS = fileURLToPath(new URL('../../ops/kafka', import.meta.url));
const LIBS = join(OPS, 'target', 'libs');

/** Why this test cannot run here ('' when it can): java or the broker jars missing. */
function missing(): string {
  if (spawnSync('bash', ['-c', 'command -v java'], { stdio: 'ignore' }).status !== 0) return 'java not on PATH';
  if (!existsSync(LIBS) || readdirSync(LIBS).length === 0) return `no broker jars in ${LIBS} (mvn, see start.sh)`;
  return '';
}

/** True when 127.0.0.1:`port` can be listened on now. */
const free = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });

/** A free port p (random in 20000..49999) with p + 1 free too: the broker's and its controller's. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    if ((await free(p)) && (await free(p + 1))) return p;
  }
  throw new Error('no free port pair found in 50 tries');
}

/** Runs ops/kafka/`script` with KAFKA_DATA_DIR=`data`; resolves with its output, rejects on failure. */
function ops(script: string, data: string, ...args: string[]): Promise<string> {
  const c = spawn('bash', [join(OPS, script), ...args], {
    env: { ...process.env, KAFKA_DATA_DIR: data },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  return new Promise((res, rej) =>
    c.on('close', (code) =>
      code === 0 ? res(out) : rej(new Error(`${script} ${args.join(' ')} exit ${code}: ${out}`)),
    ),
  );
}

/** The pid in `data`/broker.pid, or 0. */
const brokerPid = (data: string) => {
  const f = join(data, 'broker.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
};

const reason = missing();
const skip = reason !== '' && process.env.CI !== 'true';
const describeBroker = skip ? describe.skip : describe;
if (reason) console.warn(`broker-fault test ${process.env.CI === 'true' ? 'FAILS' : 'skipped'}: ${reason}`);

let dataDirs: string[] = [];
afterEach(async () => {
  // a broker left by a failed test: stop it before the fixture removes its data
  for (const d of dataDirs) await ops('stop.sh', d).catch(() => {});
  dataDirs = [];
});

describeBroker(`the Kafka broker stopped and killed -9 during training${skip ? ` [skipped: ${reason}]` : ''}`, () => {
  it('trains every message exactly once, with one trainer process that lives through both', async () => {
    expect(reason, 'CI=true needs java and the broker jars').toBe('');
    const t0 = Date.now();
    const dir = fx.tempDir('brokerfault');
    const data = join(dir, 'kafka');
    dataDirs.push(data);
    const port = await freePortPair();
    const brokers = [`127.0.0.1:${port}`];
    await ops('start.sh', data, String(port));

    const topic = uniqueTopic('brokerfault');
    await createTopic(brokers, topic, 2);
    await createTopic(brokers, `${topic}.dlq`, 1);
    const { path, lines, bad } = criteoWithBadLines(null, join(dir, 'clicks.tsv'), 6000);
    // three even-sized ranges of lines (line i at partition i % 2, offset i / 2, range by range)
    const cut1 = Math.floor(lines.length * 0.5) & ~1,
      cut2 = Math.floor(lines.length * 0.75) & ~1;
    const sets = kafkaTrainerSets(brokers, topic, dir, {
      'train.maxExamples': lines.length - bad.size,
      'checkpoint.intervalSeconds': 0.5,
    });
    const produce = (skip: number, limit: number) => produceCriteo(sets, topic, path, 0, { skip, limit });
    await produce(0, cut1);

    const audit = join(dir, 'audit.jsonl');
    const steps = () => (existsSync(audit) ? lineage(audit).length : 0);
    const { c, exited } = spawnTrainer(sets, fx);
    // the longest time without a newly trained step while the trainer runs
    let last = steps(),
      lastAt = Date.now(),
      stall = 0;
    const watch = setInterval(() => {
      const n = steps();
      if (n !== last) {
        stall = Math.max(stall, Date.now() - lastAt);
        last = n;
        lastAt = Date.now();
      }
    }, 100);
    const alive = () => expect(c.exitCode, 'the trainer exited while the broker was faulted').toBeNull();
    const until = async (what: string, ok: () => boolean, ms: number) => {
      const t = Date.now();
      while (!ok()) {
        if (Date.now() - t > ms) throw new Error(`${what}: not within ${ms} ms (trained steps ${steps()})`);
        alive();
        await sleep(50);
      }
    };
    try {
      // (a) graceful stop while the first range trains
      await until('first trained step', () => steps() > 0, 60_000);
      const atStop = steps();
      const down0 = Date.now();
      await ops('stop.sh', data);
      await sleep(10_000);
      alive();
      await ops('start.sh', data, String(port), '--keep');
      const up1 = Date.now();
      const stopped = (up1 - down0) / 1000;
      await produce(cut1, cut2 - cut1);
      const beforeKill = steps();
      await until('training after the restart', () => steps() > beforeKill, 60_000);
      const resume1 = (Date.now() - up1) / 1000;

      // (b) kill -9 while the second range trains, down 10 s (and the restart after an unclean
      // shutdown takes longer, ~15-20 s here): the consumer's requests fail past kafkajs' own
      // retries (about 20 s, src/ingest/kafka/client.ts); kafkajs or connection.ts restarts it
      const pid = brokerPid(data);
      expect(pid).toBeGreaterThan(0);
      const killAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await until('the killed broker gone', () => !existsSync(`/proc/${pid}`), 5000);
      const atKill = steps();
      await sleep(10_000);
      alive();
      await ops('start.sh', data, String(port), '--keep');
      const up2 = Date.now();
      const killed = (up2 - killAt) / 1000;
      await produce(cut2, 0);
      await until('training after the second restart', () => steps() > atKill, 60_000);
      const resume2 = (Date.now() - up2) / 1000;

      const done = await Promise.race([exited, sleep(60_000).then(() => null)]);
      expect(done, 'the trainer did not finish the topic within 60 s of the last restart').not.toBeNull();
      expect(done!.code, done!.err).toBe(0);
      clearInterval(watch);

      const counts = trainedCounts(lineage(audit));
      const want = goodPositions(lines, bad, linePosition(topic, 2));
      const check = exactlyOnce(counts, want);
      const once = [...want].filter((k) => counts.get(k) === 1).length;
      const lost = [...want].filter((k) => !counts.has(k)).length;
      const repeated = [...counts.values()].filter((n) => n > 1).length;
      const stops = done!.err.split('\n').filter((l) => l.includes('the Kafka consumer stopped'));
      const why = stops.length ? ` (first: ${stops[0].slice(0, 300)})` : '';
      const line =
        `broker faults: stop ${stopped.toFixed(0)}s + kill -9 ${killed.toFixed(0)}s: ${want.size} messages, ` +
        `trained once ${once}, lost ${lost}, repeated ${repeated}, trainer restarts 0, ` +
        `longest stall ${(stall / 1000).toFixed(1)} s`;
      const detail =
        `steps at stop ${atStop}, at kill ${atKill}, of ${lineage(audit).length}; trained again ` +
        `${resume1.toFixed(1)} s / ${resume2.toFixed(1)} s after each restart; ` +
        `consumer restarts by connection.ts ${stops.length}${why}; ` +
        `${((Date.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0].toFixed(2)}`;
      console.log(`${line} (${detail})`);
      expect(check).toEqual({ dup: [], missing: [], extra: [] });
    } finally {
      clearInterval(watch);
      await ops('stop.sh', data).catch(() => {});
    }
  }, 150_000);
});
