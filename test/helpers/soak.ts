/**
 * The leak check behind bench/soak.ts and test/leak.test.ts: N training steps and M predictions
 * on a fixed set of batches (so embedding tables stop growing after the first pass), sampling
 * tf.memory().numTensors, tfjs bytes and RSS (MB, after a full GC) five times in each phase.
 */
import * as tf from '@tensorflow/tfjs-core';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Featurizer } from '../../src/features/featurizer.ts';
import { criteoSlots } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import type { FeatureBatch } from '../../src/features/feature-batch.ts';

/** What a soak measured: whether it stayed flat, the lines it printed and the samples. */
export interface SoakResult {
  ok: boolean;
  lines: string[];
  tensors: number[];
  rssMb: number[];
}

/** Runs the soak; returns whether it stayed flat and the figures it printed. */
export async function soak(opts: {
  steps: number;
  predictions: number;
  batch: number;
  rssSlackMb: number;
  hidden?: number[];
  dim?: number;
  log?: (s: string) => void;
}): Promise<SoakResult> {
  const log = opts.log ?? console.log;
  const backend = await selectBackend('auto');
  const schema = { ...criteoSlots(), embeddingDim: opts.dim ?? 16 };
  const model = new CtrModel(schema, { hidden: opts.hidden ?? [256, 128], initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 });
  const step = new TrainStep(model, { dense: lp(1e-4), embedding: lp(3e-3), linear: lp(3e-3) });
  const fz = new Featurizer(schema);
  const batches: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed: 7, limit: 16 * opts.batch }).batches({ batchSize: opts.batch }))
    batches.push(fz.fromRecordBatch(rb));
  const serveBatch = fz.fromInstances(Array.from({ length: 100 }, (_, i) => ({ C1: String(i % 10), I1: i })));
  const lines: string[] = [],
    tensors: number[] = [],
    rssMb: number[] = [],
    bytes: number[] = [];
  // a full GC before each sample, so RSS shows retained memory rather than garbage not yet collected
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const sample = (what: string) => {
    gc();
    const m = tf.memory();
    tensors.push(m.numTensors);
    bytes.push(m.numBytes);
    rssMb.push(process.memoryUsage().rss / 2 ** 20);
    const line = `${what}: numTensors ${m.numTensors}, tfjs bytes ${m.numBytes}, rss ${rssMb.at(-1)!.toFixed(1)} MB`;
    lines.push(line);
    log(line);
  };
  log(
    `soak on backend ${backend.backend}: ${opts.steps} steps of batch ${opts.batch}, ` +
      `${opts.predictions} predictions (batches of 100)`,
  );
  const t0 = performance.now();
  for (let s = 0; s < opts.steps; s++) {
    step.run(batches[s % batches.length]);
    if ((s + 1) % Math.max(1, Math.floor(opts.steps / 5)) === 0) sample(`after ${s + 1} steps`);
  }
  const calls = Math.ceil(opts.predictions / 100);
  for (let c = 0; c < calls; c++) {
    model.predict(serveBatch);
    if ((c + 1) % Math.max(1, Math.floor(calls / 5)) === 0) sample(`after ${(c + 1) * 100} predictions`);
  }
  log(`elapsed ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const half = Math.floor(tensors.length / 2);
  const tensorsFlat = tensors.every((t) => t === tensors[0]) && bytes.every((b) => b === bytes[0]);
  const rssGrowth = Math.max(...rssMb.slice(half)) - rssMb[half];
  const ok = tensorsFlat && rssGrowth <= opts.rssSlackMb;
  log(
    `${ok ? 'FLAT' : 'LEAK'}: tensors ${tensorsFlat ? 'flat' : 'grew'} (${tensors[0]} -> ${tensors.at(-1)}), ` +
      `rss growth over the second half ${rssGrowth.toFixed(1)} MB (slack ${opts.rssSlackMb} MB)`,
  );
  model.dispose();
  step.denseLion.dispose();
  return { ok, lines, tensors, rssMb };
}
