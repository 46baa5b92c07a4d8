/**
 * The publish gate of a trainer (src/train/publish-gate.ts), wired to it: its options (model,
 * TrainStep, exports root, whether it resumed, examples it may still train), its `gate` event
 * for each decision, and its `delta` event (the gate then takes the served version again).
 */
import type { GateEvent } from '../events/train-events.ts';
import { PublishGate, type PublishGateOptions } from './publish-gate.ts';
import type { Trainer } from './trainer.ts';

/**
 * The gate of `trainer` (its options, featurizer, examples trained, `gate` event);
 * `onPublish` is called when LATEST has moved (the trainer starts its delta chain there), after
 * the trainer's `published` event (emitted with the gate on or off).
 */
export function trainerGate(trainer: Trainer, onPublish: PublishGateOptions['onPublish']): PublishGate {
  const o = trainer.opts;
  const remaining = () => (o.maxExamples ? o.maxExamples - trainer.examples : Infinity);
  const where = { exportDir: o.exportDir ?? '', keep: o.exportKeep, resumed: !!o.resumeFrom };
  const { model, step, logger } = o;
  const emit = (e: GateEvent) => trainer.emit('gate', e);
  const gate = new PublishGate({
    model,
    step,
    featurizer: trainer.featurizer,
    config: o.gate,
    ...where,
    logger,
    remaining,
    emit,
    onPublish: async (version) => {
      trainer.emit('published', { version });
      await onPublish?.(version);
    },
  });
  trainer.on('delta', () => gate.afterDelta());
  return gate;
}
