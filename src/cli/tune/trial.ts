/**
 * One trial of `lionctr tune`, in process: the model, optimizer and Trainer that `train`
 * builds from a config (model-setup.ts, src/train/trainer.ts), trained on the tuning rows'
 * first part (no checkpoints, no exports), scored on the holdout part, then freed (the
 * tower's and the optimizer's tensors: a trial leaves tf.memory() as it found it).
 */
import type { Logger } from 'pino';
import type { LionctrConfig } from '../../config/schema.ts';
import { Featurizer } from '../../features/featurizer.ts';
import { evalFigures, type EvalFigures } from '../../train/evaluation/binary-metrics.ts';
import { progressiveWindow } from '../../train/config.ts';
import { TrainStep } from '../../train/train-step.ts';
import { Trainer } from '../../train/trainer.ts';
import { featureSchemaOf } from '../common.ts';
import { modelOf, optimConfigOf } from '../model-setup.ts';
import { type Fold, replaySource, type TuneRows } from './rows.ts';

/** What a trial measured: the holdout figures and the training time (summed or averaged over folds). */
export interface TrialFigures extends EvalFigures {
  /** Examples trained (training rows x passes). */
  trained: number;
  /** Wall seconds of training and scoring. */
  seconds: number;
  /** Holdout AUC of each fold, in time order (one fold: [auc]). */
  foldAucs: number[];
}

/**
 * The figures of a trial over its folds: AUC, logloss, NE and calibration averaged (each
 * fold's holdout has the same number of rows), examples, trained and seconds summed.
 */
export function combineFolds(fs: readonly TrialFigures[]): TrialFigures {
  const mean = (k: 'auc' | 'logloss' | 'ne' | 'calibration') => fs.reduce((s, f) => s + f[k], 0) / fs.length;
  const sum = (k: 'examples' | 'trained' | 'seconds') => fs.reduce((s, f) => s + f[k], 0);
  return {
    auc: mean('auc'),
    logloss: mean('logloss'),
    ne: mean('ne'),
    calibration: mean('calibration'),
    examples: sum('examples'),
    trained: sum('trained'),
    seconds: sum('seconds'),
    foldAucs: fs.flatMap((f) => f.foldAucs),
  };
}

/**
 * Trains a fresh model of `cfg` (model.*, optim.*, schema.*, train.batchSize, source.epochs)
 * on rows [0, fold.trainRows) of `rows`, `source.epochs` passes, and scores rows
 * [fold.trainRows, fold.end).
 * @throws LionctrError as `train` does (LIONCTR_BAD_CONFIG on a bad setting, LIONCTR_DIVERGED).
 */
export async function runTrial(cfg: LionctrConfig, rows: TuneRows, fold: Fold, logger: Logger): Promise<TrialFigures> {
  const t0 = performance.now();
  const schema = featureSchemaOf(cfg);
  const model = modelOf(cfg, schema);
  let step: TrainStep | undefined;
  try {
    step = new TrainStep(model, optimConfigOf(cfg, model.slots), (msg) => logger.debug(msg));
    const trainer = new Trainer({
      model,
      step,
      openSource: () => replaySource(rows, 0, fold.trainRows),
      epochs: cfg.source.epochs,
      batchSize: cfg.train.batchSize,
      maxExamples: 0,
      metricsWindow: progressiveWindow(cfg.train),
      maxNonfiniteSteps: cfg.train.maxNonfiniteSteps,
      progressSeconds: 0,
      exportDir: null,
      exportIntervalSeconds: 0,
      exportKeep: 1,
      checkpointDir: null,
      logger,
    });
    const s = await trainer.run();
    const fz = new Featurizer(schema);
    const p: number[] = [],
      y: number[] = [];
    for await (const rb of replaySource(rows, fold.trainRows, fold.end).batches({ batchSize: 4096 })) {
      const b = fz.fromRecordBatch(rb);
      const q = model.predict(b);
      for (let i = 0; i < b.size; i++) {
        p.push(q[i]);
        y.push(b.labels[i]);
      }
    }
    const f = evalFigures(p, y);
    return { ...f, trained: s.examplesThisRun, seconds: (performance.now() - t0) / 1000, foldAucs: [f.auc] };
  } finally {
    model.dispose();
    step?.denseLion.dispose();
    // the AdamW comparison's dense link holds its own moments (DenseLion is made under AdamW too)
    for (const l of step?.dense.links ?? []) if (l !== step?.denseLion) (l as { dispose?: () => void }).dispose?.();
  }
}
