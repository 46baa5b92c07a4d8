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
  /** The version it is loaded as now (replace() re-keys it). */
  version: string;
  value: T;
  refs: number;
  retired: boolean;
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
    this.entries.set(version, { version, value, refs: 0, retired: false });
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
        if (e.retired && e.refs === 0) {
          if (this.draining.get(e.version) === e) this.draining.delete(e.version);
          this.dispose(e.version, e.value);
        }
      },
    };
  }

  /**
   * Re-keys loaded version `from` as `to` with a new value (a delta applied in place: the same
   * model under its new version). Requests holding `from` keep their handle (its version and
   * value as they acquired them) and count on the entry as before; nothing is disposed.
   * @throws Error when `from` is not loaded or `to` is loaded already (bugs of the caller).
   */
  replace(from: string, to: string, value: T): void {
    const e = this.entries.get(from);
    if (!e) throw new Error(`version ${from} is not loaded`);
    if (this.entries.has(to)) throw new Error(`version ${to} is loaded already`);
    this.entries.delete(from);
    e.version = to;
    e.value = value;
    this.entries.set(to, e);
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
