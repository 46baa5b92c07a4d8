import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka, readAll } from '../helpers/kafka.ts';
import { exactlyOnce, goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { brokerTopicWithLines, produceCriteo } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets, spawnTrainer } from '../helpers/kafka-process.ts';

const fx = useFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeKafka('two trainers in one group', () => {
  it('split the partitions; joins and a graceful leave move partitions ' +
    'without losing or duplicating a record', async () => {
    const { brokers, dir, topic, path, lines, bad } = await brokerTopicWithLines(fx, 'rebalance', 4, 9000);
    // lines of the first phase (a multiple of 4 keeps line i at partition i % 4): at most all but 1000,
    // fixed when its last wait is met (below)
    let phase1 = (lines.length - 1000) & ~3;
    const setsOf = (name: string) => {
      mkdirSync(join(dir, name), { recursive: true });
      return kafkaTrainerSets(brokers, topic, join(dir, name), { 'kafka.lingerMs': 300, 'log.level': 'info' });
    };
    const setsA = setsOf('a'),
      setsB = setsOf('b'),
      setsC = setsOf('c');
    // phase 1 is produced in slices of 40 lines, at most one every 0.4 s, while the test waits (drip), so
    // that messages keep coming until each wait is met however slowly the trainers start on a loaded machine
    // (one producer of a fixed count at a fixed rate could finish before a restarted trainer got partitions)
    let produced = 0,
      lastDrip = 0,
      dripping: Promise<void> | null = null,
      dripError: unknown = null;
    const drip = () => {
      if (dripping || produced >= phase1 || Date.now() - lastDrip < 400) return;
      lastDrip = Date.now();
      const n = Math.min(40, phase1 - produced);
      dripping = produceCriteo(setsA, topic, path, 1000, { skip: produced, limit: n }).then(
        () => {
          produced += n;
          dripping = null;
        },
        (e) => {
          dripError = e;
        },
      );
    };
    const start = (sets: string[]) => spawnTrainer(sets, fx);
    const auditA = join(dir, 'a', 'audit.jsonl'),
      auditB = join(dir, 'b', 'audit.jsonl');
    const steps = (f: string) => (existsSync(f) ? lineage(f) : []);
    const until = async (what: string, ok: () => boolean, ms = 90_000) => {
      const t0 = Date.now();
      while (!ok()) {
        if (dripError) throw dripError;
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what} (${produced} of phase 1 produced)`);
        drip();
        await sleep(100);
      }
    };

    let a = start(setsA);
    await until('A to train', () => steps(auditA).length >= 2);
    const b = start(setsB); // join: A gives up partitions
    await until('B to train', () => steps(auditB).length >= 2);
    a.c.kill('SIGTERM'); // graceful leave: B takes all
    const ra = await a.exited;
    expect(ra.code, ra.err).toBe(0);
    // A released what it gave up to B after a checkpoint, and again everything when it left
    expect(ra.err).toMatch(/released partitions \[/);
    const bBefore = steps(auditB).length;
    await until('B to train after A left', () => steps(auditB).length >= bBefore + 2);
    const aBefore = steps(auditA).length;
    a = start(setsA); // A comes back (resumes its checkpoint)
    await until('A to train again', () => steps(auditA).length >= aBefore + 1);
    await dripping;
    if (dripError) throw dripError;
    phase1 = produced; // the rest of the file is phase 2
    const auditC = join(dir, 'c', 'audit.jsonl');
    const all = () => trainedCounts([...steps(auditA), ...steps(auditB), ...steps(auditC)]);
    const goodUpTo = (n: number) => n - [...bad.keys()].filter((i) => i < n).length;
    const total = () => [...all().values()].reduce((x, y) => x + y, 0);
    await until('every good message of phase 1 to be trained', () => total() >= goodUpTo(phase1), 120_000);
    // phase 2: a third trainer joins (partitions move again, some to a trainer that had
    // regained them without new messages), then more messages arrive
    let cErr = '';
    const c = start(setsC);
    c.c.stderr!.on('data', (d) => {
      cErr += d;
    });
    await until('C to get partitions', () => /assigned partitions \[\d/.test(cErr), 60_000);
    await produceCriteo(setsA, topic, path, 300, { skip: phase1 });
    const good = lines.length - bad.size;
    await until('every good message to be trained', () => total() >= good, 120_000);
    await sleep(1500); // anything trained twice would show up now
    a.c.kill('SIGTERM');
    b.c.kill('SIGTERM');
    c.c.kill('SIGTERM');
    const [fa, fb, fc] = await Promise.all([a.exited, b.exited, c.exited]);
    expect(fa.code, fa.err).toBe(0);
    expect(fb.code, fb.err).toBe(0);
    expect(fc.code, fc.err).toBe(0);
    // A came back, got partitions from B, and B released them after a checkpoint
    expect(fa.err).toMatch(/assigned partitions \[\d/);
    expect(fb.err).toMatch(/released partitions \[/);
    const logs = [ra.err, fa.err, fb.err, fc.err].join('\n');
    console.log(
      `rebalance test: ${(logs.match(/released partitions \[[^\]]*\]/g) ?? []).length} releases, ` +
        `${(logs.match(/waiting for its previous owner/g) ?? []).length} waits for a live previous owner, ` +
        `${(logs.match(/released by its previous owner/g) ?? []).length} hand-overs after such a wait`,
    );
    const pos = linePosition(topic, 4);
    expect(exactlyOnce(all(), goodPositions(lines, bad, pos))).toEqual({ dup: [], missing: [], extra: [] });
    // both trained, and some partition was trained by both (it moved)
    const parts = (f: string) => new Set(steps(f).flatMap((s) => s.rows.map(([k]) => k)));
    const pa = parts(auditA),
      pb = parts(auditB);
    expect(pa.size).toBeGreaterThan(0);
    expect(pb.size).toBeGreaterThan(0);
    expect([...pa].some((k) => pb.has(k))).toBe(true);
    // every bad message reached the dead-letter topic (a re-read after a move may add a copy)
    const dead = new Set(
      (await readAll(brokers, `${topic}.dlq`)).map(
        (m) => `kafka:${topic}/${m.headers['lionctr-partition']}@${m.headers['lionctr-offset']}`,
      ),
    );
    for (const i of bad.keys()) expect(dead.has(pos(i)), pos(i)).toBe(true);
  }, 300_000);
});
