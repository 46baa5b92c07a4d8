/**
 * Config section `model` (the dense tower, embedding init, the FM term, momentum storage:
 * src/model/ctr-model.ts; feature admission: src/model/admission.ts; eviction:
 * src/model/eviction.ts) and the top-level key `backend` (the tfjs backend,
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
  memoryBudgetBytes: {
    doc:
      'Bytes of all embedding tables together (rows, momentum, ids, id map, last-seen times, admission ' +
      'sketches): tables grow while they fit, then recycle their least recently updated rows (their ids ' +
      'become tombstones of the next delta export). 0 = no bound',
    format: 'nat',
    default: 0,
  },
  maxRowsPerTable: {
    doc: 'Rows of any one embedding table; past it the table recycles its least recently updated rows. 0 = no bound',
    format: 'nat',
    default: 0,
  },
  admission: {
    minCount: {
      doc:
        'Sightings of a feature id (counted per slot in a count-min sketch) before it gets an embedding row ' +
        'while training, 1..255; before that it reads as a zero row and is not updated. 1 = off',
      format: 'positive-int',
      default: 1,
    },
    probability: {
      doc:
        'Chance that a sighting at or past minCount admits the id (deterministic in seed, slot, id, count ' +
        'and step), in (0, 1]. 1 = off',
      format: 'nonneg-number',
      default: 1,
    },
    sketchBytes: {
      doc: 'Bytes of the count-min sketch of each slot (4 rows of 8-bit counters); used when minCount > 1',
      format: 'positive-int',
      default: 1048576,
    },
    halveEvery: {
      doc:
        'Sightings counted in a slot (lookups of ids without a row) after which its sketch counters are ' +
        'halved: an id must reach minCount within about that many. 0 = 10 x the counters of a sketch row',
      format: 'nat',
      default: 0,
    },
  },
  eviction: {
    ttlSeconds: {
      doc:
        'Remove embedding rows not seen for this many seconds of event time (their ids become tombstones of ' +
        'the next delta export; a readmitted id starts afresh). 0 = never',
      format: 'nat',
      default: 0,
    },
    sweepSeconds: {
      doc: 'Event-time seconds between two sweeps for expired rows; 0 = ttlSeconds / 10',
      format: 'nat',
      default: 0,
    },
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

/**
 * The `model` settings that a checkpoint must match to be resumed (its fingerprint): all of
 * them, except that admission and eviction are left out while they are off (minCount 1 and
 * probability 1; ttlSeconds 0), so that checkpoints written before those keys existed, and runs
 * that never turn them on, keep the fingerprint they had.
 */
export function fingerprintedModelSection(model: ModelSection): Record<string, unknown> {
  const { admission, eviction, memoryBudgetBytes, maxRowsPerTable, ...rest } = model;
  const admits = admission.minCount > 1 || admission.probability < 1;
  return {
    ...rest,
    ...(admits ? { admission } : {}),
    ...(eviction.ttlSeconds > 0 ? { eviction } : {}),
    ...(memoryBudgetBytes > 0 ? { memoryBudgetBytes } : {}),
    ...(maxRowsPerTable > 0 ? { maxRowsPerTable } : {}),
  };
}
