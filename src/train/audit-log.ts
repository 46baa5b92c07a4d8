/**
 * The audit log (`train.auditLog`; a test and debug aid for the exactly-once crash tests): a
 * JSON-lines file that gets `{"run","restoredStep"}` when a trainer starts and
 * `{"run","step","rows":[[key,offset],...]}` after every step, each trained row's position
 * key and offset. It subscribes to the trainer's `step` event; writes are synchronous, so
 * a line is on disk before the trainer goes on.
 */
import { appendFileSync } from 'node:fs';
import type { TrainEmitter } from '../events/train-events.ts';
import { positionKey } from '../ingest/position-key.ts';

/**
 * Appends the start line to `path` now and a line per step of `trainer` from here on.
 * @param restoredStep the checkpoint step the trainer resumed from (0: a fresh start).
 * @throws filesystem errors of appendFileSync (also from within the step event).
 */
export function attachAuditLog(trainer: TrainEmitter, path: string, restoredStep: number): void {
  const run = `${process.pid}-${Date.now()}`;
  appendFileSync(path, `${JSON.stringify({ run, restoredStep })}\n`);
  trainer.on('step', (e) => {
    const rows: [string, number][] = [];
    const p = e.positions;
    if (p) for (let b = 0; b < e.examples; b++) rows.push([positionKey(p.source, p.partitions[b]), p.offsets[b]]);
    appendFileSync(path, `${JSON.stringify({ run, step: e.step, rows })}\n`);
  });
}
