/**
 * One export version as the model registry serves it (src/serve/model-registry.ts): loaded and
 * verified from the exports root (src/model/export-reader.ts loadVersion), with its featurizer
 * and a serving tower that deltas can swap under running requests (delta-tower.ts).
 */
import { Featurizer } from '../features/featurizer.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { ExportManifest } from '../model/export-format.ts';
import { loadVersion } from '../model/export-reader.ts';
import { drainedTower } from './delta-tower.ts';

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

/**
 * Loads version `version` of `root` for serving (freed by `model.dispose()`).
 * @throws LionctrError LIONCTR_BAD_EXPORT as loadVersion (a bad name, a path outside the root, a
 *   missing, corrupt or inconsistent file).
 */
export async function loadServed(root: string, version: string): Promise<ServedModel> {
  const { model, manifest } = await loadVersion(root, version);
  // a delta applied in place swaps the serving tower while requests may still await it
  if (model.servingTower) model.servingTower = drainedTower(model.servingTower);
  const featurizer = new Featurizer(manifest.schema);
  return { version, manifest, model, featurizer, loadedAt: new Date(), base: version, deltaSeq: 0 };
}
