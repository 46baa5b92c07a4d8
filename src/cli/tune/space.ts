/**
 * The search space of `lionctr tune`: the settings it varies (model family, hidden layers,
 * embedding dim, learning rates and weight decays of the tower, embeddings and linear weights,
 * lr schedule, batch size, passes), each as a short list of values, and how a point of the
 * space becomes config overrides (`key=value`, as `--set` takes them).
 */
import type { LionctrConfig } from '../../config/schema.ts';

/** The model families: linear weights only (`wide`), + FM term, + MLP tower, + both (DeepFM). */
export const FAMILIES = ['wide', 'fm', 'deep', 'deepfm'] as const;
export type Family = (typeof FAMILIES)[number];

/** One point of the space: a value per dimension (dimension name -> value). */
export type Point = Record<string, unknown>;

/** One dimension: its name (a config key, or `model.family`) and its values in ascending order. */
export interface Dim {
  name: string;
  values: readonly unknown[];
}

/**
 * The dimensions and values searched (the README and `tune --help` state the same); the linear
 * weights take the embedding rows' lr and weight decay (both are sparse rows of the same ids):
 * family: wide = a linear model (model.hidden [], the tower one linear layer), fm = wide +
 * the FM pairwise term (model.fm), deep = wide & deep (hidden layers), deepfm = deep + FM.
 */
export const SPACE: readonly Dim[] = [
  { name: 'model.family', values: FAMILIES },
  { name: 'model.hidden', values: [[64], [128, 64], [256, 128]] },
  { name: 'schema.embeddingDim', values: [4, 8, 16, 32] },
  { name: 'optim.dense.lr', values: [3e-5, 1e-4, 3e-4, 1e-3] },
  { name: 'optim.dense.weightDecay', values: [0, 0.1, 1] },
  { name: 'optim.embedding.lr', values: [1e-3, 3e-3, 1e-2] },
  { name: 'optim.embedding.weightDecay', values: [0, 0.3, 3] },
  // constant only: a tuned lr then means the same in the final, longer run (more rows than a
  // fold's); a decaying schedule ends a longer run at a lower lr than the one tuned. With both,
  // the search picked inverse-sqrt on the folds and lost 0.009-0.010 AUC on the Criteo holdout.
  { name: 'optim.schedule.kind', values: ['constant'] },
  { name: 'train.batchSize', values: [64, 128, 256, 512, 1024] },
  { name: 'source.epochs', values: [1, 2, 3, 4] },
];

/** The space as lines for `--help` and logs: `name: v1 | v2 | ...`. */
export function describeSpace(space: readonly Dim[] = SPACE): string[] {
  return space.map((d) => `${d.name}: ${d.values.map((v) => JSON.stringify(v)).join(' | ')}`);
}

/** The family of a config: fm and/or hidden layers. */
export function familyOf(cfg: LionctrConfig): Family {
  const deep = cfg.model.hidden.length > 0;
  if (cfg.model.fm) return deep ? 'deepfm' : 'fm';
  return deep ? 'deep' : 'wide';
}

/** The value of dimension `name` in a resolved config. */
function valueIn(cfg: LionctrConfig, name: string): unknown {
  if (name === 'model.family') return familyOf(cfg);
  let v: unknown = cfg;
  for (const part of name.split('.')) v = (v as Record<string, unknown>)[part];
  return v;
}

/** The point of the space that `cfg` is (its values need not be among the listed ones). */
export function pointOf(cfg: LionctrConfig, space: readonly Dim[] = SPACE): Point {
  return Object.fromEntries(space.map((d) => [d.name, valueIn(cfg, d.name)]));
}

/**
 * The space narrowed to what fits the data and the base config: batch sizes that give at
 * least 4 steps a pass over `trainRows` (the smallest is always kept), and no FM family
 * when the base config gives slots their own dims (schema.dims: FM needs one dim).
 * @returns the space and a note per narrowing, for the log.
 */
export function fitSpace(
  cfg: LionctrConfig,
  trainRows: number,
  space: readonly Dim[] = SPACE,
): { space: Dim[]; notes: string[] } {
  const notes: string[] = [];
  const out = space.map((d) => {
    if (d.name === 'train.batchSize') {
      const fit = d.values.filter((v, i) => i === 0 || (v as number) * 4 <= trainRows);
      if (fit.length < d.values.length) notes.push(`batch sizes over ${trainRows}/4 training rows left out`);
      return { ...d, values: fit };
    }
    if (d.name === 'model.family' && Object.keys(cfg.schema.dims).length > 0) {
      notes.push('FM families left out: schema.dims gives slots their own dims (FM needs one dim)');
      return { ...d, values: d.values.filter((v) => v === 'wide' || v === 'deep') };
    }
    return d;
  });
  return { space: out, notes };
}

/** Dimensions whose value also goes to a second key: the linear weights follow the embedding rows. */
const ALSO: Record<string, string> = {
  'optim.embedding.lr': 'optim.linear.lr',
  'optim.embedding.weightDecay': 'optim.linear.weightDecay',
};

/**
 * The config overrides (`key=JSON`) of a point: each dimension's key (and its ALSO key), except
 * `model.family`, which sets model.fm and (wide, fm) model.hidden [] in place of the point's
 * hidden layers.
 */
export function overridesOf(p: Point): string[] {
  const family = p['model.family'] as Family | undefined;
  const out: string[] = [];
  for (const [name, v] of Object.entries(p)) {
    if (name === 'model.family') out.push(`model.fm=${family === 'fm' || family === 'deepfm'}`);
    else if (name === 'model.hidden' && (family === 'wide' || family === 'fm')) out.push('model.hidden=[]');
    else out.push(`${name}=${JSON.stringify(v)}`);
    if (ALSO[name]) out.push(`${ALSO[name]}=${JSON.stringify(v)}`);
  }
  return out;
}

/** A key that is the same for points that train the same model (hidden layers do not matter to wide and fm). */
export function pointKey(p: Point): string {
  return JSON.stringify(overridesOf(p));
}
