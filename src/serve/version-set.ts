/**
 * The loaded versions of a model with a reference count each (after TF Serving's
 * ServableHandle, tensorflow_serving/core/servable_handle.h: a handle keeps its servable
 * alive). A request acquires the version it scores with and releases it when done, across
 * every await in between; a version retired by the version policy leaves the set at once (no
 * new request gets it) and is disposed when its last request releases it, never under one.
 */

/** A version held by one request: `release` once when done (later calls do nothing). */
export interface Handle<T> {
  readonly version: string;
  readonly value: T;
  release(): void;
}

interface Entry<T> {
  value: T;
  refs: number;
  retired: boolean;
  /** Called once when refs next falls to 0 (whenIdle). */
  idle: (() => void)[];
}

/** Versions -> loaded values, reference-counted; `dispose` frees a value (called exactly once). */
export class VersionSet<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Retired versions still held by requests, by version. */
  private readonly draining = new Map<string, Entry<T>>();

  constructor(private readonly dispose: (version: string, value: T) => void) {}

  /** Adds a loaded version. @throws Error when the version is in the set already (a bug of the caller). */
  add(version: string, value: T): void {
    if (this.entries.has(version)) throw new Error(`version ${version} is loaded already`);
    this.entries.set(version, { value, refs: 0, retired: false, idle: [] });
  }

  has(version: string): boolean {
    return this.entries.has(version);
  }

  /** The value of a loaded version, without holding it (for status pages; do not score with it). */
  peek(version: string): T | undefined {
    return this.entries.get(version)?.value;
  }

  /** The loaded versions (not the retired ones still draining), in insertion order. */
  versions(): string[] {
    return [...this.entries.keys()];
  }

  /** Requests holding each version now, retired ones included (for the extras page and tests). */
  refs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [v, e] of [...this.entries, ...this.draining]) out[v] = e.refs;
    return out;
  }

  /** Holds a loaded version for one request; undefined when it is not loaded. */
  acquire(version: string): Handle<T> | undefined {
    const e = this.entries.get(version);
    if (!e) return undefined;
    e.refs++;
    let held = true;
    return {
      version,
      value: e.value,
      release: () => {
        if (!held) return;
        held = false;
        e.refs--;
        if (e.refs === 0) for (const f of e.idle.splice(0)) f();
        if (e.retired && e.refs === 0) {
          if (this.draining.get(version) === e) this.draining.delete(version);
          this.dispose(version, e.value);
        }
      },
    };
  }

  /** Requests holding a loaded version now (0 when none, or when it is not loaded). */
  refsOf(version: string): number {
    return this.entries.get(version)?.refs ?? 0;
  }

  /**
   * Resolves true when no request holds `version` (at once when none does now), false after
   * `timeoutMs` or when it is not loaded. A new request may acquire it between the release and
   * the caller's continuation: check refsOf again before relying on it.
   */
  whenIdle(version: string, timeoutMs: number): Promise<boolean> {
    const e = this.entries.get(version);
    if (!e) return Promise.resolve(false);
    if (e.refs === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = e.idle.indexOf(done);
        if (i >= 0) e.idle.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      timer.unref?.(); // a wait does not keep a process alive that is shutting down
      e.idle.push(done);
    });
  }

  /**
   * Re-keys an idle loaded version `from` as `to` with a new value (a delta applied in place:
   * the same model under its new version); nothing is disposed.
   * @throws Error when `from` is not loaded or is held, or `to` is loaded already (bugs of the caller).
   */
  replace(from: string, to: string, value: T): void {
    const e = this.entries.get(from);
    if (!e || e.refs > 0) throw new Error(`version ${from} is not loaded or is held by a request`);
    if (this.entries.has(to)) throw new Error(`version ${to} is loaded already`);
    this.entries.delete(from);
    this.entries.set(to, { value, refs: 0, retired: false, idle: [] });
  }

  /**
   * Removes a version from the set: disposed now when no request holds it, else when the last
   * one releases it. Unknown versions are ignored.
   */
  retire(version: string): void {
    const e = this.entries.get(version);
    if (!e) return;
    this.entries.delete(version);
    e.retired = true;
    if (e.refs === 0) this.dispose(version, e.value);
    else this.draining.set(version, e);
  }

  /** Retires every version (shutdown): idle ones are disposed now, held ones on release. */
  retireAll(): void {
    for (const v of [...this.entries.keys()]) this.retire(v);
  }
}
