import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServeEvents } from '../events/serve-events.ts';
import type { EventArgs } from '../events/typed-emitter.ts';
import { Featurizer } from '../features/featurizer.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { ExportManifest } from '../model/export-format.ts';
import { loadExport, readLatest } from '../model/export-reader.ts';
import { applyWhenQuiet } from './delta-applier.ts';
import { DeltaChain, deltaFailureReason, isSuperseded, type ParsedDelta } from './delta-reader.ts';
import { drainedTower } from './delta-tower.ts';
import { ExportWatch } from './delta-watch.ts';
import { fillCandidates, newestFirst, versionsToKeep } from './version-policy.ts';
import { type Handle, VersionSet } from './version-set.ts';

/** A loaded, verified export that serves predictions. */
export interface ServedModel {
  version: string;
  manifest: ExportManifest;
  model: CtrModel;
  featurizer: Featurizer;
  loadedAt: Date;
  /** The full export it was loaded from (its own version before deltas; absent: `version`). */
  base?: string;
  /** The last delta of `base` applied (0 or absent: none). */
  deltaSeq?: number;
}

/** The version policy of a registry (config `serve.keepVersions`, `serve.labels`). */
export interface VersionPolicy {
  /** Versions kept loaded: LATEST's and the newest others (TF Serving's "latest N"); default 2. */
  keepVersions?: number;
  /** label -> version; a labelled version is loaded at start-up when on disk and never dropped. */
  labels?: Record<string, string | number>;
  /**
   * Most seconds a delta waits for the chunked requests holding the served version before it is
   * applied to a copy instead of in place (serve.deltaMaxDeferSeconds); default 1.
   */
  deltaMaxDeferSeconds?: number;
  /** Whether start() also watches for new entries (delta-watch.ts) besides polling; default true. */
  watch?: boolean;
  /** Rows of a delta prepared per event-loop turn before its in-place apply (delta-applier.ts); default 16384. */
  deltaSliceRows?: number;
}

/**
 * Watches `<root>/LATEST`, loads and verifies each new version beside the ones being served,
 * then swaps the default version atomically (one assignment). Keeps the newest
 * `keepVersions` versions loaded (plus labelled ones) and frees a dropped version when the
 * last request holding it (acquire/release) ends, never under a running request. A version
 * that fails to load is logged and skipped; the old one keeps serving. At start-up, when
 * LATEST names a bad version, the newest older version that loads is served instead; then
 * older and labelled versions on disk are loaded up to the policy. Started, it checks every `pollSeconds`
 * and (unless `watch` is false) when an entry appears in the root or the served export (delta-watch.ts).
 *
 * Deltas (src/model/delta-format.ts): on each check the full export served by default is
 * polled for its next delta-<n>; a verified one is applied (delta-applier.ts) and its version
 * served: in place when no request holds the served version, else when the last chunked
 * request holding it ends, or on a copy after `deltaMaxDeferSeconds`. A gap or a refused
 * delta stops the chain (logged once, `deltaFailed`) until LATEST names a new full export.
 * Events (src/events/serve-events.ts): `loaded` after each swap (a delta applied included),
 * `loadFailed` for each failed load, `deltaApplied`, `deltaDeferred`, `deltaFailed`, and
 * `deltaSuperseded` when the base was pruned while its delta was read (not a failure: logged at info).
 */
export class ModelRegistry extends EventEmitter<EventArgs<ServeEvents>> {
  private readonly loadedSet: VersionSet<ServedModel>;
  private currentVersion: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failedVersion: string | undefined;
  private checking = false;
  private again = false; // a watched directory changed during a check: check again when it ends
  private readonly watcher: ExportWatch | undefined;
  private readonly sliceRows: number;
  private readonly keep: number;
  private readonly deferMs: number;
  /** The deltas of the full export served by default. */
  private chain: DeltaChain | undefined;
  /** label -> version, from the policy. */
  readonly labels: ReadonlyMap<string, string>;
  private readonly pinned: ReadonlySet<string>;
  /** The last load failure, for /readyz and the extras page. */
  lastError: { version: string; message: string } | undefined;

  /** @param pollSeconds seconds between LATEST checks (0 = check only when asked). */
  constructor(
    readonly root: string,
    private readonly logger: Logger,
    private readonly pollSeconds = 1,
    policy: VersionPolicy = {},
  ) {
    super();
    this.keep = Math.max(1, policy.keepVersions ?? 2);
    this.deferMs = 1000 * (policy.deltaMaxDeferSeconds ?? 1);
    this.labels = new Map(Object.entries(policy.labels ?? {}).map(([l, v]) => [l, String(v)]));
    this.pinned = new Set(this.labels.values());
    this.sliceRows = policy.deltaSliceRows ?? 16384;
    const nudge = () => {
      if (this.checking) this.again = true;
      else void this.check();
    };
    if (policy.watch ?? true) this.watcher = new ExportWatch(nudge, logger);
    this.loadedSet = new VersionSet((version, served) => {
      served.model.dispose();
      this.logger.info({ version }, `model version ${version} unloaded`);
    });
  }

  /** The version served by default (the one LATEST names), or undefined before the first load. Not held. */
  current(): ServedModel | undefined {
    return this.currentVersion === undefined ? undefined : this.loadedSet.peek(this.currentVersion);
  }

  /** Every loaded version, newest first. Not held: read fields, do not score with them. */
  loaded(): ServedModel[] {
    return newestFirst(this.loadedSet.versions()).map((v) => this.loadedSet.peek(v) as ServedModel);
  }

  /**
   * Holds a version for one request (the default one when `version` is undefined); release
   * the handle when the request ends. Undefined when that version is not loaded.
   */
  acquire(version?: string): Handle<ServedModel> | undefined {
    const v = version ?? this.currentVersion;
    return v === undefined ? undefined : this.loadedSet.acquire(v);
  }

  /** Requests holding each version now, by version (dropped versions still draining included). */
  inFlight(): Record<string, number> {
    return this.loadedSet.refs();
  }

  /** Checks LATEST now and loads a new version if there is one. Never throws. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      let version: string | null;
      try {
        version = await readLatest(this.root);
      } catch (err) {
        const message = (err as Error).message;
        if (this.lastError?.message !== message) this.logger.error(message);
        this.lastError = { version: 'LATEST', message };
        return;
      }
      if (!version || version === this.chain?.base || version === this.failedVersion) return await this.follow();
      const first = this.currentVersion === undefined;
      if (this.loadedSet.has(version) || (await this.load(version))) this.swapTo(version);
      else {
        this.failedVersion = version;
        if (!first) return;
        // nothing served yet (a start-up on a bad LATEST): fall back to the newest older version that loads
        const older = fillCandidates(await this.onDisk(), version, new Set(), new Set());
        for (const v of older)
          if (await this.load(v)) {
            this.swapTo(v);
            break;
          }
      }
      if (first && this.currentVersion !== undefined) await this.fill(this.currentVersion);
      await this.follow();
    } finally {
      this.checking = false;
      if (this.again) void this.check();
      this.again = false;
    }
  }

  /** Version directories (and other names) under the root; [] when it cannot be read. */
  private onDisk(): Promise<string[]> {
    return readdir(this.root).catch(() => [] as string[]);
  }

  /** At start-up: loads labelled versions on disk and older ones up to keepVersions. */
  private async fill(latest: string): Promise<void> {
    const loaded = () => new Set(this.loadedSet.versions());
    for (const v of fillCandidates(await this.onDisk(), latest, this.pinned, loaded())) {
      // as versionsToKeep counts: labelled versions come on top of the newest keepVersions
      const others = [...loaded()].filter((x) => x !== latest && !this.pinned.has(x)).length;
      if (this.pinned.has(v) || others < this.keep - 1) await this.load(v);
    }
  }

  /** Loads and verifies one version into the loaded set (not the default yet); false (logged, counted) on failure. */
  private async load(version: string): Promise<boolean> {
    try {
      const { model, manifest } = await loadExport(join(this.root, version));
      // a delta applied in place swaps the serving tower while requests may still await it
      if (model.servingTower) model.servingTower = drainedTower(model.servingTower);
      const featurizer = new Featurizer(manifest.schema);
      const served = { version, manifest, model, featurizer, loadedAt: new Date(), base: version, deltaSeq: 0 };
      this.loadedSet.add(version, served);
      this.logger.info({ version, step: manifest.step }, `model version ${version} loaded (step ${manifest.step})`);
      return true;
    } catch (err) {
      this.lastError = { version, message: (err as Error).message };
      this.logger.error(
        { version, err: (err as Error).message },
        `export ${version} failed to load: ${(err as Error).message}; ` + `serving ${this.currentVersion ?? 'nothing'}`,
      );
      this.emit('loadFailed', { version, message: (err as Error).message });
      return false;
    }
  }

  /**
   * Makes a loaded version the default one, then drops the versions the policy no longer keeps.
   * A full export (not a delta) starts a new delta chain.
   */
  private swapTo(version: string): void {
    const previous = this.currentVersion ?? null;
    this.currentVersion = version;
    const served = this.loadedSet.peek(version) as ServedModel;
    if (!served.deltaSeq) {
      this.chain = new DeltaChain(version, join(this.root, version));
      if (this.watcher?.dirs.length) this.watcher.set([this.root, this.chain.baseDir]);
    }
    const kept = new Set(versionsToKeep(this.loadedSet.versions(), version, this.keep, this.pinned));
    for (const v of this.loadedSet.versions()) if (!kept.has(v)) this.loadedSet.retire(v);
    const step = (this.loadedSet.peek(version) as ServedModel).manifest.step;
    this.logger.info({ version, step, previous }, `serving model version ${version} (step ${step})`);
    this.emit('loaded', { version, step, previous });
  }

  /** Starts polling LATEST. */
  start(): void {
    this.watcher?.set(this.chain ? [this.root, this.chain.baseDir] : [this.root]);
    void this.check();
    if (this.pollSeconds > 0) this.timer = setInterval(() => void this.check(), this.pollSeconds * 1000);
    this.timer?.unref();
  }

  /** Stops polling and unloads every version (a version held by a request is freed when it ends). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.loadedSet.retireAll();
    this.currentVersion = undefined;
    this.chain = undefined;
  }

  /** Applies the deltas of the default version's chain that are there, in order, until none or a refused one. */
  private async follow(): Promise<void> {
    const chain = this.chain;
    while (chain && !chain.failed && chain === this.chain && this.currentVersion !== undefined) {
      const served = this.loadedSet.peek(this.currentVersion) as ServedModel;
      const t0 = performance.now();
      try {
        const d = await chain.next(served.model);
        if (!d || !(await this.applyDelta(chain, d, t0))) return;
      } catch (err) {
        chain.failed = true;
        const seq = chain.nextSeq,
          message = (err as Error).message;
        if (isSuperseded(err)) {
          this.logger.info(
            { base: chain.base, seq },
            `${message}; serving ${this.currentVersion} until the next full export`,
          );
          this.emit('deltaSuperseded', { base: chain.base, seq });
          return;
        }
        this.lastError = { version: `${chain.base}/delta-${seq}`, message };
        this.logger.error(
          { base: chain.base, seq, err: message },
          `delta-${seq} of export ${chain.base} refused: ${message}; no more deltas of ${chain.base} are applied, ` +
            `serving ${this.currentVersion} until the next full export`,
        );
        this.emit('deltaFailed', { base: chain.base, seq, reason: deltaFailureReason(err), message });
        return;
      }
    }
  }

  /** Applies a verified delta to the default version (applyWhenQuiet), serves it, logs and emits. */
  private async applyDelta(chain: DeltaChain, d: ParsedDelta, t0: number): Promise<boolean> {
    const current = () => (chain === this.chain ? this.currentVersion : undefined);
    const { seq } = d.manifest;
    const onWait = (chunked: number) => {
      this.logger.info({ base: chain.base, seq, chunked }, `delta-${seq} waits for ${chunked} chunked requests`);
      this.emit('deltaDeferred', { base: chain.base, seq, chunked });
    };
    const r = await applyWhenQuiet(this.loadedSet, current, this.pinned, d, this.deferMs, onWait, this.sliceRows);
    if (!r) return false;
    chain.advance(d);
    this.swapTo(r.next.version);
    const { version } = d.manifest;
    const { rows, removed } = r.counts;
    this.logger.info(
      { base: chain.base, seq, version, rows, removed, inPlace: r.inPlace },
      `delta-${seq} of export ${chain.base} applied: ${rows} rows, ${removed} removed`,
    );
    const seconds = (performance.now() - t0) / 1000;
    this.emit('deltaApplied', { base: chain.base, seq, version, rows, tombstones: removed, seconds, ...r.timing });
    return true;
  }
}
