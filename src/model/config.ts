/**
 * Config section `model` (the dense tower, embedding init, the FM term, momentum storage;
 * src/model/ctr-model.ts) and the top-level key `backend` (the tfjs backend,
 * src/model/backend.ts).
 */
import { oneOf, type ConfigValues } from '../config/formats.ts';

/** Convict schema of `model.*`. */
export const modelConfig = {
  hidden: { doc: 'Hidden layer sizes of the dense tower', format: 'int-list', default: [256, 128] },
  initStd: { doc: 'Std of initial embedding values', format: 'nonneg-number', default: 0.01 },
  seed: { doc: 'Seed of the tower init', format: 'int', default: 1 },
  fm: {
    doc: 'Add the factorization-machine pairwise term of the embeddings to the logit (DeepFM)',
    format: Boolean,
    default: false,
  },
  momentumDtype: {
    doc: 'Storage of embedding-row Lion momentum: float32 or bfloat16 (half the optimizer memory)',
    ...oneOf(['float32', 'bfloat16'], 'float32'),
  },
};

/** Convict schema of the key `backend`. */
export const backendConfig = {
  doc: 'tfjs backend: auto (tensorflow, then wasm, then cpu) or one of them',
  ...oneOf(['auto', 'tensorflow', 'wasm', 'cpu'], 'auto'),
  env: 'LIONCTR_BACKEND',
};

/** The resolved `model` section. */
export type ModelSection = ConfigValues<typeof modelConfig>;
