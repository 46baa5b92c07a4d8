import type { CtrModel } from '../model/ctr-model.ts';
import type { Progress, Trainer } from '../train/trainer.ts';
import type { Metrics } from './catalogue.ts';

/** Subscribes the metric catalogue to a trainer's events. */
export function observeTrainer(trainer: Trainer, model: CtrModel, m: Metrics): void {
  trainer.on('step', (e: { examples: number; seconds: number; loss: number }) => {
    m.trainExamples.inc(e.examples);
    m.trainSteps.inc();
    m.stepSeconds.observe(e.seconds);
    m.batchLoss.set(e.loss);
  });
  trainer.on('progress', (p: Progress) => {
    const set = (g: { set(v: number): void }, v: number) => { if (Number.isFinite(v)) g.set(v); };
    set(m.progAuc, p.auc); set(m.progLogloss, p.logloss); set(m.progNe, p.ne); set(m.progCalibration, p.calibration);
    set(m.throughput, p.examplesPerSecond);
    for (const t of model.tables) { m.embeddingRows.set({ slot: t.slot }, t.size); m.embeddingBytes.set({ slot: t.slot }, t.bytes); }
    if (trainer.watermark !== null) m.freshness.set((Date.now() - trainer.watermark) / 1000);
  });
  trainer.on('export', (e: { seconds: number }) => {
    m.exportSeconds.observe(e.seconds);
    m.exportTimestamp.set(Date.now() / 1000);
  });
}
