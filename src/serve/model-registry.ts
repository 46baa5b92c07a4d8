import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServeEvents } from '../events/serve-events.ts';
import type { EventArgs } from '../events/typed-emitter.ts';
import { readLatest } from '../model/export-reader.ts';
import { followDeltas, type FollowHost } from './delta-follow.ts';
import { DeltaChain } from './delta-reader.ts';
import { ExportWatch } from './delta-watch.ts';
import { loadServed, type ServedModel } from './served-model.ts';
import { fillCandidates, newestFirst, versionsToKeep } from './version-policy.ts';
import { supersededBy, versionsOnDisk } from './versions-on-disk.ts';
import { type Handle, VersionSet } from './version-set.ts';

/** Versions one check follows when each is pruned while it loads (a trainer exporting faster than loads end). */
const MAX_SUPERSEDED = 5;

export type { ServedModel };

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
 * that fails to load is logged and skipped; the old one keeps serving; one the trainer pruned
 * while it loaded is `superseded` (logged at info, not counted) and LATEST is read again. At
 * start-up, when LATEST names a bad version, the newest older version that loads is served
 * instead, and when LATEST holds no version name, the newest on disk that loads (logged); then
 * older and labelled versions on disk are loaded up to the policy. Started, it checks every
 * `pollSeconds` and (unless `watch` is false) when an entry appears in the root or the served
 * export (delta-watch.ts).
 *
 * Deltas (src/model/delta-format.ts, followed by delta-follow.ts): on each check the full export served by default is
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
  /** The message of LATEST's last read when it was bad (logged once). */
  private latestError: string | undefined;
  private checking = false;
  private again = false; // a watched directory changed during a check: check again when it ends
  private readonly watcher: ExportWatch | undefined;
  private readonly sliceRows: number;
  private readonly followHost: FollowHost;
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
    this.followHost = {
      chain: () => this.chain,
      current: () => this.currentVersion,
      loadedSet: this.loadedSet,
      pinned: this.pinned,
      deferMs: this.deferMs,
      sliceRows: this.sliceRows,
      logger,
      emitter: this,
      swapTo: (v) => this.swapTo(v),
      failed: (version, message) => {
        this.lastError = { version, message };
      },
    };
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

  /** Whether `version` is loaded now (a label naming a version that is not is refused, as TF Serving's). */
  isLoaded(version: string): boolean {
    return this.loadedSet.has(version);
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
      // a version pruned while it loaded (superseded) is followed by the one LATEST names then
      for (let tries = 0; tries < MAX_SUPERSEDED; tries++) if (!(await this.checkOnce())) break;
    } finally {
      this.checking = false;
      if (this.again) void this.check();
      this.again = false;
    }
  }

  /** One check of LATEST (see check); true when the version it loaded was superseded meanwhile. */
  private async checkOnce(): Promise<boolean> {
    const first = this.currentVersion === undefined;
    let version: string | null;
    try {
      version = await readLatest(this.root);
    } catch (err) {
      const message = (err as Error).message;
      this.lastError = { version: 'LATEST', message };
      if (this.latestError === message) return false;
      this.latestError = message;
      this.logger.error(message);
      // nothing served yet: the newest version on disk that loads, rather than nothing
      if (first && (await this.fallBack(await versionsOnDisk(this.root), message)))
        await this.fill(this.currentVersion as string);
      this.lastError = { version: 'LATEST', message }; // what /readyz names, not a version tried meanwhile
      return false;
    }
    this.latestError = undefined;
    if (!version || version === this.chain?.base || version === this.failedVersion) {
      await this.follow();
      return false;
    }
    const got = this.loadedSet.has(version) ? 'loaded' : await this.load(version);
    if (got === 'superseded') return true;
    if (got === 'loaded') this.swapTo(version);
    else {
      this.failedVersion = version;
      if (!first) return false;
      // nothing served yet (a start-up on a bad LATEST): fall back to the newest older version that loads
      const why = `version ${version} does not load`;
      await this.fallBack(fillCandidates(await versionsOnDisk(this.root), version, new Set(), new Set()), why);
    }
    if (first && this.currentVersion !== undefined) await this.fill(this.currentVersion);
    await this.follow();
    return false;
  }

  /** Serves the first of `versions` that loads, logged with `why` LATEST's is not; false when none does. */
  private async fallBack(versions: string[], why: string): Promise<boolean> {
    for (const v of versions)
      if ((await this.load(v)) === 'loaded') {
        this.logger.warn({ version: v, why }, `LATEST: ${why}; serving version ${v}, the newest on disk that loads`);
        this.swapTo(v);
        return true;
      }
    return false;
  }

  /** At start-up: loads labelled versions on disk and older ones up to keepVersions. */
  private async fill(latest: string): Promise<void> {
    const loaded = () => new Set(this.loadedSet.versions());
    for (const v of fillCandidates(await versionsOnDisk(this.root), latest, this.pinned, loaded())) {
      // as versionsToKeep counts: labelled versions come on top of the newest keepVersions
      const others = [...loaded()].filter((x) => x !== latest && !this.pinned.has(x)).length;
      if (this.pinned.has(v) || others < this.keep - 1) await this.load(v);
    }
    // TF Serving refuses such a label (server_core.cc UpdateModelVersionLabelMap): requests by it answer 400
    for (const [label, v] of this.labels)
      if (!this.loadedSet.has(v))
        this.logger.warn(
          { label, version: v },
          `serve.labels: label ${label} names version ${v}, which is not currently available for inference ` +
            `(not on disk, or it did not load): requests by label ${label} answer 400 until it is loaded`,
        );
  }

  /**
   * Loads and verifies one version into the loaded set (not the default yet): 'failed' (logged,
   * counted) when it does not load; 'superseded' (logged at info, not counted) when it failed
   * because the trainer pruned it meanwhile: its directory is gone and LATEST names another.
   */
  private async load(version: string): Promise<'loaded' | 'failed' | 'superseded'> {
    try {
      const served = await loadServed(this.root, version);
      this.loadedSet.add(version, served);
      const { step } = served.manifest;
      this.logger.info({ version, step }, `model version ${version} loaded (step ${step})`);
      return 'loaded';
    } catch (err) {
      const message = (err as Error).message;
      if (await supersededBy(this.root, version)) {
        this.logger.info(
          { version, err: message },
          `export ${version} superseded: pruned by the trainer while it loaded (${message}); loading the newest`,
        );
        return 'superseded';
      }
      this.lastError = { version, message };
      this.logger.error(
        { version, err: message },
        `export ${version} failed to load: ${message}; serving ${this.currentVersion ?? 'nothing'}`,
      );
      this.emit('loadFailed', { version, message });
      return 'failed';
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
    const { step, event_time_watermark_ms: watermarkMs } = (this.loadedSet.peek(version) as ServedModel).manifest;
    this.logger.info({ version, step, previous }, `serving model version ${version} (step ${step})`);
    this.emit('loaded', { version, step, previous, watermarkMs });
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

  /** Applies the deltas of the default version's chain that are there (delta-follow.ts). */
  private follow(): Promise<void> {
    return followDeltas(this.followHost);
  }
}
