/**
 * An exclusive lock on a checkpoint directory: the file `<dir>/LOCK` holds the owner's pid
 * and host. Two trainers writing checkpoints into one directory would overwrite each other's
 * checkpoints while both commit Kafka offsets, losing data; so the second one is refused.
 * A lock left by a process that no longer runs (same host) is taken over.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LionctrError } from '../errors.ts';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; } };

/**
 * Creates `dir` if needed and takes its lock.
 * @returns a function that releases it (idempotent).
 * @throws LionctrError LIONCTR_BAD_CONFIG (where `checkpoint.dir`) when the directory cannot
 *   be created or written, or another live process holds the lock.
 */
export function lockCheckpointDir(dir: string): () => void {
  const file = join(dir, 'LOCK');
  const me = `${process.pid} ${hostname()}`;
  try { mkdirSync(dir, { recursive: true }); } catch (e) {
    throw new LionctrError('LIONCTR_BAD_CONFIG', `cannot create the checkpoint directory ${dir}: ${(e as Error).message}`, { where: 'checkpoint.dir', cause: e });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, me + '\n');
      closeSync(fd);
      let held = true;
      return () => { if (held) { held = false; rmSync(file, { force: true }); } };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new LionctrError('LIONCTR_BAD_CONFIG', `cannot write to the checkpoint directory ${dir}: ${(e as Error).message}`, { where: 'checkpoint.dir', cause: e });
      const [pid, host] = readFileSync(file, 'utf8').trim().split(' ');
      if (host === hostname() && !alive(Number(pid))) { rmSync(file, { force: true }); continue; } // stale: its process is gone
      throw new LionctrError('LIONCTR_BAD_CONFIG', `the checkpoint directory ${dir} is in use by process ${pid} on ${host}; give each trainer its own --export-dir or --checkpoint-dir (remove ${file} if that process is gone)`, { where: 'checkpoint.dir' });
    }
  }
  throw new LionctrError('LIONCTR_BAD_CONFIG', `could not take the lock ${file}`, { where: 'checkpoint.dir' });
}
