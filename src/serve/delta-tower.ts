/**
 * The serving tower (src/model/serving-tower.ts) of a model that deltas change in place. An ONNX
 * session holds its own copy of the tower's weights, so a delta needs a new session, built from
 * the delta's dense weights before anything changes (onnxruntime builds it asynchronously) and
 * swapped in with the rows; the old session may still be running for requests of one chunk that
 * took it before the swap (CtrModel.score awaits it), so it is released when its last run ends
 * (drainedTower). A tfjs serving tower reads the model's own tower variables, which the delta
 * reassigns: it needs nothing.
 */
import type { CtrModel } from '../model/ctr-model.ts';
import { createServingTower, type ServingTower, servingTowerOptions } from '../model/serving-tower.ts';
import { DenseTower } from '../model/tower.ts';

/**
 * `t` with dispose() deferred until the logits() calls running now have ended (a tower replaced
 * by a delta while requests still await it). Later calls after dispose() are the wrapped tower's
 * business (onnxruntime's refuses them).
 */
export function drainedTower(t: ServingTower): ServingTower {
  let running = 0,
    disposed = false;
  return {
    kind: t.kind,
    logits: async (x, rows) => {
      running++;
      try {
        return await t.logits(x, rows);
      } finally {
        running--;
        if (disposed && running === 0) t.dispose();
      }
    },
    dispose: () => {
      disposed = true;
      if (running === 0) t.dispose();
    },
  };
}

/**
 * The serving tower a delta's dense weights need on `model`: a new ONNX session (drained) when the
 * model is served by onnxruntime, undefined otherwise (tfjs reads the reassigned variables).
 * @param dense the delta's tower variables, in order (shapes as model.tower.shapes).
 * @throws LionctrError LIONCTR_UNAVAILABLE when onnxruntime refuses the graph.
 */
export async function deltaOnnxTower(model: CtrModel, dense: Float32Array[]): Promise<ServingTower | undefined> {
  if (model.servingTower?.kind !== 'onnx') return undefined;
  const tmp = new DenseTower(model.inputDim, model.config.hidden, { values: dense, trainable: false });
  try {
    return drainedTower(await createServingTower(tmp, { ...servingTowerOptions(), kind: 'onnx' }));
  } finally {
    tmp.dispose(); // the session holds its own copy of the weights
  }
}

/**
 * Gives `copy` (a model built from `original` with a delta applied) the serving tower of the same
 * kind: `onnx` (the delta's, from deltaOnnxTower) when the original is served by onnxruntime, a
 * tfjs one on the copy's own variables when by tfjs, none when the original has none.
 */
export async function equipCopy(original: CtrModel, copy: CtrModel, onnx: ServingTower | undefined): Promise<void> {
  const kind = original.servingTower?.kind;
  if (kind === 'onnx') copy.servingTower = onnx;
  else if (kind === 'tfjs') copy.servingTower = await createServingTower(copy.tower, { kind: 'tfjs', threads: 1 });
}
