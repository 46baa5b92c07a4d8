/**
 * The trainer's two writes, each timed and logged: a checkpoint (TrainState + run position,
 * src/train/checkpoint.ts) and an export (model + figures, src/train/export-writer.ts), the
 * latter as a candidate that the publish gate (src/train/publish-gate.ts) then publishes or
 * refuses. When to write them is the trainer's choice; these just write.
 */
import type { Logger } from 'pino';
import type { CheckpointEvent, ExportEvent } from '../events/train-events.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { writeCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { writeCandidate, type ExportMeta } from './export-writer.ts';
import { captureState } from './train-state.ts';
import type { TrainStep } from './train-step.ts';

/**
 * Writes a checkpoint of `step`'s state with `meta` under `dir` (newest `keep` kept) and
 * logs `checkpoint step S (X MB in T s)`. Resolves once it is durable.
 * @throws filesystem errors of writeCheckpoint.
 */
export async function saveCheckpoint(
  dir: string,
  step: TrainStep,
  meta: CheckpointMeta,
  keep: number,
  logger: Logger,
): Promise<CheckpointEvent> {
  const t = performance.now();
  const at = step.step;
  const r = await writeCheckpoint(dir, await captureState(step), meta, keep);
  const seconds = (performance.now() - t) / 1000;
  logger.info(
    { dir: r.dir, seconds, bytes: r.bytes },
    `checkpoint step ${at} (${(r.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s)`,
  );
  return { step: at, seconds, bytes: r.bytes };
}

/**
 * Writes an export of `model` with `meta` under `dir` as a candidate, not yet published
 * (export-writer.ts writeCandidate; the publish gate moves LATEST or refuses it), and logs
 * `exported version V (X MB in T s)`.
 * @throws LionctrError LIONCTR_DIVERGED and filesystem errors of writeCandidate.
 */
export async function saveExport(dir: string, model: CtrModel, meta: ExportMeta, logger: Logger): Promise<ExportEvent> {
  const t = performance.now();
  const r = await writeCandidate(dir, model, meta);
  const seconds = (performance.now() - t) / 1000;
  logger.info(
    { version: r.version, seconds, bytes: r.bytes },
    `exported version ${r.version} (${(r.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s)`,
  );
  return { version: r.version, seconds, bytes: r.bytes, watermarkMs: meta.watermarkMs };
}
