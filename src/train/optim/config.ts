/**
 * Config section `optim`: Lion settings per parameter group (dense tower, embeddings, linear
 * weights, bias; Chen et al. 2023), per-slot overrides of the embedding group, gradient
 * clipping, the AdamW conversion, the sparse step's kernel and catch-up mode, and the lr
 * schedule (src/train/optim/schedule.ts).
 */
import { oneOf, type ConfigValues } from '../../config/formats.ts';

/** lr, beta1, beta2, weightDecay of one Lion group; lr also from LIONCTR_OPTIM_<NAME>_LR. */
const lion = (name: string, lr: number, weightDecay: number) => ({
  lr: {
    doc: `${name} Lion learning rate`,
    format: 'nonneg-number',
    default: lr,
    env: `LIONCTR_OPTIM_${name.toUpperCase()}_LR`,
  },
  beta1: { doc: `${name} Lion beta1 (interpolation for the sign)`, format: 'unit-interval', default: 0.9 },
  beta2: { doc: `${name} Lion beta2 (momentum decay)`, format: 'unit-interval', default: 0.99 },
  weightDecay: {
    doc: `${name} decoupled weight decay (theta -= lr*wd*theta)`,
    format: 'nonneg-number',
    default: weightDecay,
  },
});

/** Convict schema of `optim.*`. */
export const optimConfig = {
  dense: lion('dense', 3e-4, 0.1),
  embedding: lion('embedding', 3e-3, 3),
  linear: lion('linear', 3e-3, 3),
  bias: lion('bias', 1e-3, 0),
  tables: {
    doc: 'Per-slot overrides of the embedding group: {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}',
    format: 'table-overrides',
    default: {} as Record<string, Record<string, number | string>>,
  },
  clipGlobalNorm: {
    doc: 'Clip the dense gradients to this global L2 norm (0 = off)',
    format: 'nonneg-number',
    default: 0,
  },
  fromAdamW: {
    enabled: {
      doc:
        "Read every group's lr and weightDecay as AdamW settings and convert them (Lion paper sec. 5: lr / factor, " +
        'wd * factor)',
      format: Boolean,
      default: false,
    },
    factor: { doc: 'The 3..10 factor of the AdamW conversion', format: 'nonneg-number', default: 3 },
  },
  sparseKernel: {
    doc:
      'Sparse step kernel: wasm (WebAssembly SIMD, the default) or js; the JS one also runs where wasm cannot ' +
      '(decayed/exact under a non-constant schedule, tables over 4 GiB)',
    ...oneOf(['wasm', 'js'], 'wasm'),
  },
  sparseMode: {
    doc:
      'Catch-up of idle embedding rows: lazy (frozen), decayed (momentum and weight decay caught up), ' +
      'exact (identical to dense Lion)',
    ...oneOf(['lazy', 'decayed', 'exact'], 'lazy'),
  },
  schedule: {
    kind: {
      doc:
        'lr schedule of every group: constant, inverse-sqrt (max(floor, 1/sqrt(1+t/timescale))) or cosine ' +
        '(to floor over timescale steps)',
      ...oneOf(['constant', 'inverse-sqrt', 'cosine'], 'inverse-sqrt'),
    },
    timescaleSteps: {
      doc: 'Time scale (inverse-sqrt) or length (cosine) of the schedule, steps',
      format: 'positive-int',
      default: 5,
    },
    warmupSteps: { doc: 'Steps of linear lr warm-up', format: 'nat', default: 0 },
    floor: { doc: 'Smallest (inverse-sqrt) or final (cosine) lr multiplier', format: 'unit-interval', default: 0.1 },
  },
};

/** The resolved `optim` section. */
export type OptimSection = ConfigValues<typeof optimConfig>;
