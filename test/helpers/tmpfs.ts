/**
 * A real full disk for fault tests (issue 17): a small tmpfs mounted for the test (root only:
 * CAP_SYS_ADMIN; elsewhere the tests that need it are skipped, saying why), and a filler that
 * takes its free space and keeps it taken (topping up every few ms what a failed write freed)
 * until released.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A mounted tmpfs: its path and its unmount. */
export interface Tmpfs {
  dir: string;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `sizeMb` at `dir` (created).
 * @returns it, or the reason it cannot be mounted here (not root, no mount permission).
 */
export function mountTmpfs(dir: string, sizeMb: number): Tmpfs | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'tmpfs needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root (uid 0)' };
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
  return {
    dir,
    unmount: () => {
      const u = spawnSync('umount', ['-l', dir], { encoding: 'utf8' });
      if (u.status !== 0) throw new Error(`umount ${dir} failed: ${u.stderr}`);
    },
  };
}

/** Holds a filesystem full: fills it, keeps it full (every `everyMs`) until `release()` deletes the filler. */
export class DiskFiller {
  private readonly file: string;
  private fd: number;
  private timer: NodeJS.Timeout;
  /** Bytes the filler holds. */
  bytes = 0;

  constructor(dir: string, everyMs = 20) {
    this.file = join(dir, 'filler.bin');
    this.fd = openSync(this.file, 'a');
    this.top();
    this.timer = setInterval(() => this.top(), everyMs);
  }

  /** Writes until the filesystem refuses (ENOSPC): all free space taken. */
  private top(): void {
    const chunk = Buffer.alloc(64 * 1024, 1),
      small = Buffer.alloc(4096, 1);
    for (const b of [chunk, small]) {
      for (;;) {
        try {
          this.bytes += writeSync(this.fd, b);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  }

  /** Stops topping up and deletes the filler: the space is free again. */
  release(): void {
    clearInterval(this.timer);
    closeSync(this.fd);
    rmSync(this.file, { force: true });
  }
}

/**
 * The other way to make writes fail without root (no tmpfs): RLIMIT_FSIZE, set on a running
 * process with `prlimit` (its own user may lower its soft limit and raise it back to the hard
 * one). A process that ignores SIGXFSZ (started with `trap "" XFSZ`, see spawnRun) then gets
 * EFBIG for every write past `bytes` into a regular file (pipes, logs, are not limited); Node
 * surfaces it as `EFBIG: file too large, write`.
 */
export const fileSizeLimit = {
  /** Why it cannot be used here ('' when it can). */
  unavailable(): string {
    if (process.platform !== 'linux') return 'RLIMIT_FSIZE via prlimit needs Linux';
    const r = spawnSync('prlimit', ['--version'], { encoding: 'utf8' });
    return r.status === 0 ? '' : 'prlimit (util-linux) not found';
  },
  /** Limits every file process `pid` writes to `bytes` (soft limit), or lifts the limit ('unlimited'). */
  set(pid: number, bytes: number | 'unlimited'): void {
    const r = spawnSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`prlimit --pid ${pid} --fsize=${bytes}: failed: ${r.stderr}`);
  },
};
