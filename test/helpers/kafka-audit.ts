/**
 * Reading a trainer's audit log (train.auditLog) in the Kafka tests: the lineage of trained
 * rows (a restart drops what a crashed run trained after its checkpoint), how often each
 * position was trained, and the exactly-once check against the positions that should be.
 */
import { readFileSync } from 'node:fs';

/** One step of the lineage: its number and trained rows as [position key, offset]. */
export interface AuditStep {
  step: number;
  rows: [string, number][];
}

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
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.restoredStep !== undefined) {
      while (out.length && out[out.length - 1].step > e.restoredStep) out.pop();
      continue;
    }
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

/**
 * `key@offset` of line i of a file produced round-robin into `partitions` partitions of
 * `topic` (lionctr produce: line i at partition i % partitions, offset floor(i / partitions)).
 */
export const linePosition =
  (topic: string, partitions: number) =>
  (i: number): string =>
    `kafka:${topic}/${i % partitions}@${Math.floor(i / partitions)}`;

/** The positions of the good lines (index not in `bad`) of `lines`, by `pos` (see linePosition). */
export const goodPositions = (lines: string[], bad: Map<number, string>, pos: (i: number) => string): Set<string> =>
  new Set(
    lines
      .map((_, i) => i)
      .filter((i) => !bad.has(i))
      .map(pos),
  );

/**
 * Exactly-once check of `counts` (trainedCounts) against the positions `want`: the first
 * five positions trained other than once, not trained, and trained but not wanted. All
 * three are empty when every wanted position was trained exactly once and nothing else.
 */
export function exactlyOnce(
  counts: Map<string, number>,
  want: Set<string>,
): { dup: [string, number][]; missing: string[]; extra: string[] } {
  return {
    dup: [...counts].filter(([, n]) => n !== 1).slice(0, 5),
    missing: [...want].filter((k) => !counts.has(k)).slice(0, 5),
    extra: [...counts.keys()].filter((k) => !want.has(k)).slice(0, 5),
  };
}
