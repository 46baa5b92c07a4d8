/**
 * Shared pieces of the Kafka training tests: a Criteo file with planted bad lines, the
 * trainer config for a topic, and reading an audit log (train.auditLog) into the lineage
 * of trained rows (a restart truncates what the crashed run trained after its checkpoint).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * `n` Criteo-format lines (label, 13 integer cells, 26 hex categorical cells; some empty),
 * deterministic, with a label that depends on two of the slots so that a model can learn.
 */
export function syntheticCriteoLines(n: number, seed = 7): string[] {
  let s = seed >>> 0;
  const rnd = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ints = Array.from({ length: 13 }, () => (rnd() < 0.2 ? '' : String(Math.floor(-Math.log(rnd() + 1e-9) * 20))));
    const cats = Array.from({ length: 26 }, (_, j) => (rnd() < 0.1 ? '' : (Math.floor(rnd() * (20 + j * 40)) * 2654435761 >>> 0).toString(16).padStart(8, '0')));
    const p = 0.05 + 0.4 * (parseInt(cats[0] || '0', 16) % 3 === 0 ? 1 : 0) + 0.2 * (Number(ints[0] || 0) > 20 ? 1 : 0);
    out.push([rnd() < p ? 1 : 0, ...ints, ...cats].join('\t'));
  }
  return out;
}

/**
 * Writes `n` Criteo lines (`src`, a Criteo TSV file, or synthetic ones when null) with bad
 * lines planted; returns the path, all lines and which line indexes are bad, by reason.
 */
export function criteoWithBadLines(src: string | null, out: string, n: number): { path: string; lines: string[]; bad: Map<number, string> } {
  const good = src ? readFileSync(src, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, n) : syntheticCriteoLines(n);
  const lines: string[] = [];
  const bad = new Map<number, string>();
  const plant = [
    ['this is not a criteo line', 'wrong_field_count'],
    [good[0].replace(/^\d/, '2'), 'bad_label'],
    [good[1].replace(/^(\d)\t[^\t]*/, '$1\tabc'), 'bad_number'],
    [good[2] + '\t' + 'x'.repeat(70_000), 'oversized'],
  ];
  good.forEach((l, i) => {
    lines.push(l);
    if (i % 250 === 100) { const [text, reason] = plant[(i / 250 | 0) % plant.length]; bad.set(lines.length, reason); lines.push(text); }
  });
  writeFileSync(out, lines.join('\n') + '\n');
  return { path: out, lines, bad };
}

/** `--set` overrides for a trainer on `topic` (tiny model, small batches, no exports between). */
export function kafkaTrainerSets(brokers: string[], topic: string, dir: string, extra: Record<string, unknown> = {}): string[] {
  const o: Record<string, unknown> = {
    'source.kind': 'kafka', 'kafka.brokers': brokers, 'kafka.topic': topic, 'kafka.deadLetterTopic': `${topic}.dlq`, 'kafka.groupId': `${topic}-trainers`,
    'kafka.format': 'criteo', 'kafka.sessionTimeoutMs': 6000, 'kafka.heartbeatIntervalMs': 500,
    'train.batchSize': 256, 'model.hidden': [16], 'schema.embeddingDim': 4, 'train.progressSeconds': 0, 'train.metricsWindow': 2000,
    'export.dir': `${dir}/exports`, 'export.intervalSeconds': 0, 'checkpoint.dir': `${dir}/checkpoints`, 'checkpoint.intervalSeconds': 1,
    'train.auditLog': `${dir}/audit.jsonl`, 'log.level': 'warn', ...extra,
  };
  return Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
}

/** One step of the lineage: its number and trained rows as [position key, offset]. */
export interface AuditStep { step: number; rows: [string, number][] }

/**
 * The lineage of an audit log: entries in file order; a restart marker with restoredStep s
 * drops the steps after s (trained by a run that died before checkpointing them). A torn
 * last line (SIGKILL mid-write) is ignored.
 */
export function lineage(path: string): AuditStep[] {
  const out: AuditStep[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    let e: { restoredStep?: number; step?: number; rows?: [string, number][] };
    try { e = JSON.parse(line); } catch { continue; }
    if (e.restoredStep !== undefined) { while (out.length && out[out.length - 1].step > e.restoredStep) out.pop(); continue; }
    out.push({ step: e.step!, rows: e.rows! });
  }
  return out;
}

/** Count of each trained position `key@offset` over the lineage(s). */
export function trainedCounts(steps: AuditStep[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of steps) for (const [k, o] of s.rows) m.set(`${k}@${o}`, (m.get(`${k}@${o}`) ?? 0) + 1);
  return m;
}

/** A fresh topic `<prefix>-...` with `partitions` partitions and its `.dlq`, plus `n` Criteo lines (bad ones planted) in `dir`. */
export async function topicWithLines(brokers: string[], prefix: string, partitions: number, dir: string, n: number) {
  const { createTopic, uniqueTopic } = await import('./kafka.ts');
  const { CRITEO_TSV } = await import('./shared.ts');
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const topic = uniqueTopic(prefix);
  await createTopic(brokers, topic, partitions);
  await createTopic(brokers, `${topic}.dlq`, 1);
  return { topic, ...criteoWithBadLines(existsSync(CRITEO_TSV) ? CRITEO_TSV : null, join(dir, 'clicks.tsv'), n) };
}

/** A `lionctr train` child process with these `--set`s; `exited` resolves with its code and stderr/stdout. */
export function spawnTrainer(sets: string[], children: ChildProcess[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
  const c = spawn('node', ['bin/lionctr.mjs', 'train', ...sets.flatMap((s) => ['--set', s])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  c.stderr!.on('data', (d) => { err += d; });
  c.stdout!.on('data', (d) => { out += d; });
  children.push(c);
  return { c, exited: new Promise<{ code: number | null; err: string; out: string }>((res) => c.on('exit', (code) => res({ code, err, out }))) };
}
