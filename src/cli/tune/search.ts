/**
 * The search of `lionctr tune`: seeded, sequential, within a trial budget. Trial 1 is the base
 * config as given; then half the remaining budget samples the space at random (each
 * dimension uniform over its values; Bergstra & Bengio 2012); the other half is a
 * first-improvement hill climb from the best point so far: its one-dimension changes (every
 * other value of every dimension) in a seeded random order, moving on as soon as one scores
 * better; when none is left, random two-dimension steps. No point is tried twice. Same seed
 * and same scores: same trials.
 */
import { Xoshiro128 } from '../../ingest/synthetic-prng.ts';
import { type Dim, type Point, pointKey } from './space.ts';

/** One trial: its point, how it was made, its score (higher is better; NaN when it failed). */
export interface Trial {
  index: number;
  point: Point;
  kind: 'base' | 'random' | 'local';
  score: number;
}

/** What search() needs. */
export interface SearchOptions {
  space: readonly Dim[];
  /** The base config's point (its values need not be among the space's). */
  base: Point;
  /** Trials at most (the budget), >= 1. */
  trials: number;
  seed: number;
  /** Scores a point (e.g. holdout AUC); NaN for a failed trial. Called once per trial, in order. */
  evaluate: (p: Point, index: number) => Promise<number>;
}

/** Tries to find an untried point this many times before the search stops (the space is used up). */
const MAX_DRAWS = 200;

const better = (a: number, b: number): boolean => !Number.isNaN(a) && (Number.isNaN(b) || a > b);

/** Uniform integer in [0, n). */
const pick = (rng: Xoshiro128, n: number): number => Math.min(n - 1, Math.floor(rng.uniform() * n));

/** Deep families need hidden layers: a point with none gets one of the listed ones. */
function repair(p: Point, space: readonly Dim[], rng: Xoshiro128): Point {
  const fam = p['model.family'];
  const hidden = space.find((d) => d.name === 'model.hidden');
  const h = p['model.hidden'];
  if (hidden && (fam === 'deep' || fam === 'deepfm') && Array.isArray(h) && h.length === 0) {
    return { ...p, 'model.hidden': hidden.values[pick(rng, hidden.values.length)] };
  }
  return p;
}

/** A point drawn uniformly from the space. */
function randomPoint(space: readonly Dim[], base: Point, rng: Xoshiro128): Point {
  const p: Point = { ...base };
  for (const d of space) p[d.name] = d.values[pick(rng, d.values.length)];
  return p;
}

/** `p` with one or two dimensions moved one step (to a random listed value when its value is not listed). */
function neighbour(p: Point, space: readonly Dim[], rng: Xoshiro128): Point {
  const q: Point = { ...p };
  const moves = 1 + pick(rng, 2);
  for (let m = 0; m < moves; m++) {
    const d = space[pick(rng, space.length)];
    const at = d.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(q[d.name]));
    if (d.values.length < 2) continue;
    if (at < 0) q[d.name] = d.values[pick(rng, d.values.length)];
    else {
      const step = at === 0 ? 1 : at === d.values.length - 1 ? -1 : rng.uniform() < 0.5 ? -1 : 1;
      q[d.name] = d.values[at + step];
    }
  }
  return q;
}

/** The points that differ from `p` in one dimension, in a seeded random order (Fisher-Yates). */
function changesOf(p: Point, space: readonly Dim[], rng: Xoshiro128): Point[] {
  const out: Point[] = [];
  for (const d of space)
    for (const v of d.values) if (JSON.stringify(v) !== JSON.stringify(p[d.name])) out.push({ ...p, [d.name]: v });
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(rng, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Runs the search (see module doc): at most `trials` trials, fewer when no untried point is
 * found in MAX_DRAWS draws. Returns the trials in order; the best is bestOf(trials).
 */
export async function search(o: SearchOptions): Promise<Trial[]> {
  if (!Number.isInteger(o.trials) || o.trials < 1)
    throw new RangeError(`trials must be an integer >= 1, got ${o.trials}`);
  const rng = new Xoshiro128(o.seed, 0x7475); // "tu"
  const tried = new Set<string>();
  const out: Trial[] = [];
  const randomTrials = Math.ceil((o.trials - 1) / 2);
  let climbFrom = '';
  let changes: Point[] = [];
  for (let i = 0; i < o.trials; i++) {
    let point: Point | null = null;
    let kind: Trial['kind'] = i === 0 ? 'base' : i <= randomTrials ? 'random' : 'local';
    for (let draw = 0; draw < MAX_DRAWS && !point; draw++) {
      let p: Point;
      if (kind === 'base') p = o.base;
      else if (kind === 'random') p = randomPoint(o.space, o.base, rng);
      else {
        const from = bestOf(out)?.point ?? o.base;
        if (pointKey(from) !== climbFrom) [climbFrom, changes] = [pointKey(from), changesOf(from, o.space, rng)];
        p = changes.shift() ?? neighbour(from, o.space, rng);
      }
      p = repair(p, o.space, rng);
      if (!tried.has(pointKey(p))) point = p;
      else if (kind === 'local' && draw >= MAX_DRAWS / 2) kind = 'random'; // the best's neighbours are used up
    }
    if (!point) break;
    tried.add(pointKey(point));
    const score = await o.evaluate(point, i);
    out.push({ index: i, point, kind, score });
  }
  return out;
}

/** The trial with the highest score (the earlier one on a tie); undefined when none scored. */
export function bestOf(trials: readonly Trial[]): Trial | undefined {
  let best: Trial | undefined;
  for (const t of trials) if (better(t.score, best?.score ?? NaN)) best = t;
  return best;
}
