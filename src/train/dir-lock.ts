/**
 * An exclusive lock on a checkpoint directory: the file `<dir>/LOCK` holds the owner's pid,
 * host and process start time. Two trainers writing checkpoints into one directory would
 * overwrite each other's checkpoints while both commit Kafka offsets, losing data; so the
 * second one is refused. A lock whose process is gone (same host: the pid is dead, or it
 * now belongs to a process started at another time, e.g. PID 1 of a restarted container) is
 * taken over; so is an empty or unreadable lock older than a few seconds (a crash while it
 * was written). Taking over renames the stale file away (only one contender can) and checks
 * after a short settle that the new lock is still its own.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LionctrError } from '../errors.ts';

/** True when a process with this pid runs on this host (EPERM: it runs, as another user). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Start time of a process (Linux: clock ticks since boot, /proc/<pid>/stat field 22), or '' when unknown. */
function startTimeOf(pid: number | 'self'): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Why a lock's owner is gone, or null when it may still run. */
function staleReason(content: string, file: string): string | null {
  const [pid, host, start] = content.trim().split(' ');
  if (!pid || !host || !/^\d+$/.test(pid)) {
    const ageMs = Date.now() - statSync(file).mtimeMs;
    return ageMs > 5000 ? 'unreadable lock file' : null; // maybe being written right now
  }
  if (host !== hostname()) return null; // another machine: cannot tell
  const n = Number(pid);
  if (!processAlive(n)) return `process ${n} is gone`;
  if (start && startTimeOf(n) && startTimeOf(n) !== start) return `pid ${n} is now another process`;
  return null;
}

/**
 * Creates `dir` if needed and takes its lock.
 * @returns a function that releases it (idempotent).
 * @throws LionctrError LIONCTR_BAD_CONFIG (where `checkpoint.dir`) when the directory cannot
 *   be created or written, or another live process holds the lock.
 */
export function lockCheckpointDir(dir: string): () => void {
  const file = join(dir, 'LOCK');
  const me = `${process.pid} ${hostname()} ${startTimeOf('self')}`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `cannot create the checkpoint directory ${dir}: ${(e as Error).message}`,
      { where: 'checkpoint.dir', cause: e },
    );
  }
  let tookOver = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new LionctrError(
          'LIONCTR_BAD_CONFIG',
          `cannot write to the checkpoint directory ${dir}: ${(e as Error).message}`,
          { where: 'checkpoint.dir', cause: e },
        );
      let content = '';
      try {
        content = readFileSync(file, 'utf8');
      } catch {
        continue;
      } // removed meanwhile: try again
      const stale = staleReason(content, file);
      if (!stale) {
        const [pid, host] = content.trim().split(' ');
        if (!pid) {
          sleepSync(200);
          continue;
        }
        throw new LionctrError(
          'LIONCTR_BAD_CONFIG',
          `the checkpoint directory ${dir} is in use by process ${pid} on ${host}; give each trainer its own ` +
            `--export-dir or --checkpoint-dir (remove ${file} if that process is gone)`,
          { where: 'checkpoint.dir' },
        );
      }
      // move the stale lock away: of several contenders, one rename succeeds
      try {
        renameSync(file, `${file}.stale-${process.pid}`);
        rmSync(`${file}.stale-${process.pid}`, { force: true });
      } catch {
        /* another one moved it */
      }
      tookOver = true;
      continue;
    }
    writeSync(fd, `${me}\n`);
    fsyncSync(fd);
    closeSync(fd);
    if (tookOver || attempt > 0) {
      // a contender that read the same stale lock may have moved ours away and made its own
      sleepSync(100);
      let now = '';
      try {
        now = readFileSync(file, 'utf8');
      } catch {
        /* gone */
      }
      if (now.trim() !== me)
        throw new LionctrError(
          'LIONCTR_BAD_CONFIG',
          `another trainer took over the stale lock ${file} at the same time`,
          { where: 'checkpoint.dir' },
        );
    }
    let held = true;
    return () => {
      if (held) {
        held = false;
        rmSync(file, { force: true });
      }
    };
  }
  throw new LionctrError('LIONCTR_BAD_CONFIG', `could not take the lock ${file}`, { where: 'checkpoint.dir' });
}
