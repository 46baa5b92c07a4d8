import { join } from 'node:path';
import type { Logger } from 'pino';
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
 * skipped; the old one keeps serving. Events: `loaded` (ServedModel), `load_failed`.
 */
export class ModelRegistry {
  private currentModel: ServedModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failedVersion: string | undefined;
  private checking = false;
  private listeners: { loaded: ((m: ServedModel) => void)[]; failed: ((version: string, err: Error) => void)[] } = { loaded: [], failed: [] };

  /** @param pollSeconds seconds between LATEST checks (0 = check only when asked). */
  constructor(readonly root: string, private readonly logger: Logger, private readonly pollSeconds = 1) {}

  /** The model being served, or undefined before the first successful load. */
  current(): ServedModel | undefined { return this.currentModel; }

  onLoaded(f: (m: ServedModel) => void): void { this.listeners.loaded.push(f); }
  onLoadFailed(f: (version: string, err: Error) => void): void { this.listeners.failed.push(f); }

  /** Checks LATEST now and loads a new version if there is one. Never throws. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const version = await readLatest(this.root);
      if (!version || version === this.currentModel?.version || version === this.failedVersion) return;
      try {
        const { model, manifest } = await loadExport(join(this.root, version));
        const old = this.currentModel;
        this.currentModel = { version, manifest, model, featurizer: new Featurizer(manifest.schema), loadedAt: new Date() };
        this.failedVersion = undefined;
        old?.model.dispose();
        this.logger.info({ version, step: manifest.step }, `serving model version ${version} (step ${manifest.step})`);
        for (const f of this.listeners.loaded) f(this.currentModel);
      } catch (err) {
        this.failedVersion = version;
        this.logger.error({ version, err: (err as Error).message }, `export ${version} failed to load; still serving ${this.currentModel?.version ?? 'nothing'}`);
        for (const f of this.listeners.failed) f(version, err as Error);
      }
    } finally {
      this.checking = false;
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
