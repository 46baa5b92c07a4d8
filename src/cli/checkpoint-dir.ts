/**
 * Where a config's checkpoints live (`run` and `train`): shared by the trainer's setup
 * (train-session.ts) and `run`'s main thread, which cleans up after a trainer worker that died.
 */
import { join, resolve } from 'node:path';
import type { LionctrConfig } from '../config/schema.ts';

/**
 * The checkpoints root of a config (absolute): checkpoint.dir, else `<exportDir>/checkpoints`
 * (checkpoints live beside the exports); null when checkpoints are off, or neither is set.
 */
export function checkpointDirOf(cfg: LionctrConfig, exportDir: string | null): string | null {
  if (!cfg.checkpoint.enabled) return null;
  if (cfg.checkpoint.dir) return resolve(cfg.checkpoint.dir);
  return exportDir ? join(exportDir, 'checkpoints') : null;
}
