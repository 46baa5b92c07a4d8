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

/** A loaded, verified export that serves predictions. */
export interface ServedModel {
  version: string;
  manifest: ExportManifest;
  model: CtrModel;
  featurizer: Featurizer;
  loadedAt: Date;
}

/**
 * Watches `<root>/LATEST`, loads and verifies each new version beside the one being
 * served, then swaps atomically (one assignment; predictions are synchronous, so no
 * request ever sees a half-swapped model). A version that fails to load is logged and
 * skipped; the old one keeps serving. At start-up, when LATEST names a bad version, the
 * newest older version that loads is served instead. Events (src/events/serve-events.ts):
 * `loaded` after each swap, `loadFailed` for each version that failed to load.
 */
export class ModelRegistry extends EventEmitter<EventArgs<ServeEvents>> {
  private currentModel: ServedModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failedVersion: string | undefined;
  private checking = false;
  /** The last load failure, for /readyz and the status API. */
  lastError: { version: string; message: string } | undefined;

  /** @param pollSeconds seconds between LATEST checks (0 = check only when asked). */
  constructor(
    readonly root: string,
    private readonly logger: Logger,
    private readonly pollSeconds = 1,
  ) {
    super();
  }

  /** The model being served, or undefined before the first successful load. */
  current(): ServedModel | undefined {
    return this.currentModel;
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
      if (!version || version === this.currentModel?.version || version === this.failedVersion) return;
      if (await this.load(version)) return;
      this.failedVersion = version;
      if (!this.currentModel) {
        // nothing served yet (a start-up on a bad LATEST): fall back to the newest older version that loads
        const older = (await readdir(this.root).catch(() => [] as string[]))
          .filter((v) => /^\d+$/.test(v) && Number(v) < Number(version))
          .sort((a, b) => Number(b) - Number(a));
        for (const v of older) if (await this.load(v)) break;
      }
    } finally {
      this.checking = false;
    }
  }

  /** Loads one version and swaps it in; false (logged, counted) when it fails. */
  private async load(version: string): Promise<boolean> {
    try {
      const { model, manifest } = await loadExport(join(this.root, version));
      const old = this.currentModel;
      this.currentModel = {
        version,
        manifest,
        model,
        featurizer: new Featurizer(manifest.schema),
        loadedAt: new Date(),
      };
      old?.model.dispose();
      this.logger.info({ version, step: manifest.step }, `serving model version ${version} (step ${manifest.step})`);
      this.emit('loaded', { version, step: manifest.step, previous: old?.version ?? null });
      return true;
    } catch (err) {
      this.lastError = { version, message: (err as Error).message };
      this.logger.error(
        { version, err: (err as Error).message },
        `export ${version} failed to load: ${(err as Error).message}; ` +
          `serving ${this.currentModel?.version ?? 'nothing'}`,
      );
      this.emit('loadFailed', { version, message: (err as Error).message });
      return false;
    }
  }

  /** Starts polling LATEST. */
  start(): void {
    void this.check();
    if (this.pollSeconds > 0) this.timer = setInterval(() => void this.check(), this.pollSeconds * 1000);
    this.timer?.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.currentModel?.model.dispose();
    this.currentModel = undefined;
  }
}
