/**
 * Tells serving at once that something appeared in the exports root or in the served full
 * export's directory (a new LATEST, a delta renamed into place), so that it need not wait for
 * its next poll (issue 11: a trained row served within export.deltaIntervalSeconds + 1 s).
 * fs.watch (inotify on Linux) of a few directories, not recursive: the writers rename finished
 * directories into place, so one event comes per export. Polling stays the fallback: a
 * directory that cannot be watched (no inotify, a network file system, watches exhausted) is
 * logged at debug and left to the poll.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';

/** Watches a set of directories; `onChange` runs (at most once per event-loop turn) on any entry change in them. */
export class ExportWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = false;

  constructor(
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {}

  /** Directories watched now. */
  get dirs(): string[] {
    return [...this.watchers.keys()];
  }

  /**
   * Watches exactly `dirs` from now on: new ones are watched, the others closed. A directory
   * that cannot be watched (absent, or fs.watch refuses) is skipped (debug log): the poll finds
   * what appears in it. Never throws.
   */
  set(dirs: readonly string[]): void {
    for (const [dir, w] of this.watchers)
      if (!dirs.includes(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        // a watched directory removed (a pruned export) or an inotify error: closed, the poll goes on
        w.on('error', (err) => {
          this.logger.debug({ dir, err: err.message }, `not watching ${dir} any more: ${err.message}`);
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch (err) {
        this.logger.debug({ dir, err: (err as Error).message }, `cannot watch ${dir}, polling it`);
      }
    }
  }

  /** Stops watching everything. */
  close(): void {
    this.set([]);
  }

  private changed(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.onChange();
    });
  }
}
