/**
 * The search of `lionctr tune` (src/cli/tune/search.ts, space.ts) on stand-in objectives (no
 * training): deterministic for a seed, within the trial budget, every point inside the space
 * and loadable as config, no point tried twice, the base first; and the written config
 * (best-config.ts) and the progress bar (progress.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFrom } from '../../../src/config/schema.ts';
import { bestConfig } from '../../../src/cli/tune/best-config.ts';
import { barLine, ProgressBar } from '../../../src/cli/tune/progress.ts';
import { bestOf, search, type Trial } from '../../../src/cli/tune/search.ts';
import { fitSpace, overridesOf, type Point, pointKey, pointOf, SPACE } from '../../../src/cli/tune/space.ts';

const base = pointOf(loadConfig());

/** A stand-in objective: higher nearer a target point (index distance per dimension), plus seeded noise. */
const objective = (target: Point) => async (p: Point) => {
  let d = 0;
  for (const dim of SPACE) {
    const i = dim.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(p[dim.name]));
    const j = dim.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(target[dim.name]));
    d += i < 0 ? dim.values.length : Math.abs(i - j);
  }
  return 0.8 - 0.01 * d;
};

const target: Point = Object.fromEntries(SPACE.map((d) => [d.name, d.values[1]]));
const run = (seed: number, trials: number, space = SPACE) =>
  search({ space, base, trials, seed, evaluate: objective(target) });
const settings = (ts: Trial[]) => ts.map((t) => pointKey(t.point));

describe('tune search', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    const [a, b, c] = [await run(3, 25), await run(3, 25), await run(4, 25)];
    expect(settings(a)).toEqual(settings(b));
    expect(a.map((t) => t.score)).toEqual(b.map((t) => t.score));
    expect(settings(a)).not.toEqual(settings(c));
  });

  it('runs the base first, then random, then local trials, within the budget, never a point twice', async () => {
    let calls = 0;
    const ts = await search({
      space: SPACE,
      base,
      trials: 21,
      seed: 1,
      evaluate: async (p) => {
        calls++;
        return objective(target)(p);
      },
    });
    expect(ts).toHaveLength(21);
    expect(calls).toBe(21);
    expect(ts[0]).toMatchObject({ kind: 'base', point: base });
    expect(ts.slice(1, 11).every((t) => t.kind === 'random')).toBe(true);
    expect(ts.slice(11).every((t) => t.kind === 'local')).toBe(true);
    expect(new Set(settings(ts)).size).toBe(21);
    for (const n of [1, 2, 7]) expect(await run(9, n)).toHaveLength(n);
    await expect(run(1, 0)).rejects.toThrow(RangeError);
  });

  it('stops when the space is used up', async () => {
    const tiny = SPACE.map((d) => ({ ...d, values: d.values.slice(0, d.name === 'source.epochs' ? 3 : 1) }));
    const ts = await run(1, 50, tiny);
    // 3 points in the tiny space, plus the base (outside it)
    expect(ts).toHaveLength(4);
    expect(new Set(settings(ts)).size).toBe(4);
  });

  it('draws only listed values; deep families get hidden layers; every point loads as config', async () => {
    const ts = await run(5, 40);
    for (const t of ts.slice(1)) {
      for (const d of SPACE) expect(d.values.map((v) => JSON.stringify(v))).toContain(JSON.stringify(t.point[d.name]));
      const cfg = loadConfig([], overridesOf(t.point));
      const fam = t.point['model.family'];
      expect(cfg.model.fm).toBe(fam === 'fm' || fam === 'deepfm');
      expect(cfg.model.hidden.length > 0).toBe(fam === 'deep' || fam === 'deepfm');
      expect(pointOf(cfg)['model.family']).toBe(fam);
    }
    expect(new Set(ts.map((t) => t.point['model.family'])).size).toBe(4);
  });

  it('the local half finds better points than the random half on a smooth objective', async () => {
    const ts = await run(2, 60);
    const bestRandom = bestOf(ts.filter((t) => t.kind !== 'local')) as Trial;
    const best = bestOf(ts) as Trial;
    expect(best.score).toBeGreaterThan(bestRandom.score);
    expect(best.kind).toBe('local');
  });

  it('bestOf: the highest score, the earlier on a tie, NaN never', () => {
    const t = (index: number, score: number): Trial => ({ index, point: {}, kind: 'random', score });
    expect(bestOf([t(0, NaN), t(1, 0.7), t(2, 0.7), t(3, 0.6)])?.index).toBe(1);
    expect(bestOf([t(0, NaN)])).toBeUndefined();
  });

  it('fitSpace: batch sizes give >= 4 steps a pass; no FM with per-slot dims', () => {
    const cfg = loadConfig();
    const batch = (rows: number) => fitSpace(cfg, rows).space.find((d) => d.name === 'train.batchSize')?.values;
    expect(batch(1000)).toEqual([64, 128]);
    expect(batch(100)).toEqual([64]);
    expect(batch(100_000)).toEqual([64, 128, 256, 512, 1024]);
    const dims = loadConfig([], ['schema.dims={"C1":8}']);
    const fam = fitSpace(dims, 1e5).space.find((d) => d.name === 'model.family')?.values;
    expect(fam).toEqual(['wide', 'deep']);
  });
});

describe('tune output config', () => {
  it("keeps the run's non-default keys, overlays the best settings, leaves the input out unless asked", () => {
    const { config, origins } = loadConfigFrom({
      files: ['config/criteo.json'],
      sets: ['source.path="/data/x.tsv"', 'source.skip=5', 'source.limit=100', 'model.seed=7'],
    });
    const over = overridesOf({ ...pointOf(config), 'model.family': 'wide', 'train.batchSize': 128 });
    const out = bestConfig(config, origins, over) as Record<string, Record<string, unknown>>;
    expect(out.source).toEqual({ format: 'criteo', epochs: 2 });
    expect(out.model).toMatchObject({ seed: 7, hidden: [], fm: false });
    expect(out.train.batchSize).toBe(128);
    expect(out.export).toEqual({ dir: 'exports-criteo', intervalSeconds: 0 });
    const kept = bestConfig(config, origins, over, true) as Record<string, Record<string, unknown>>;
    expect(kept.source).toMatchObject({ kind: 'file', path: '/data/x.tsv', skip: 5, limit: 100 });
    // what train --config reads back: the same settings
    const file = join(mkdtempSync(join(tmpdir(), 'lionctr-tune-')), 'tuned.json');
    writeFileSync(file, JSON.stringify(out));
    const again = loadConfig([file]);
    expect(again.model.hidden).toEqual([]);
    expect(again.train.batchSize).toBe(128);
    expect(again.source.limit).toBe(0);
    rmSync(dirname(file), { recursive: true });
  });
});

describe('tune progress bar', () => {
  const state = { done: 2, total: 4, last: 0.7, best: 0.75, bestIndex: 0, seconds: 10 };
  it('one line per trial off a terminal; redrawn in place on one', () => {
    const pipe: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => pipe.push(s) });
    bar.update(state);
    bar.update({ ...state, done: 3 });
    bar.end();
    expect(pipe).toHaveLength(2);
    expect(pipe.every((s) => s.endsWith('\n') && !s.includes('\r'))).toBe(true);
    const tty: string[] = [];
    const tbar = new ProgressBar({ write: (s: string) => tty.push(s), isTTY: true });
    tbar.update(state);
    tbar.end();
    expect(tty[0].startsWith('\r')).toBe(true);
    expect(tty[1]).toBe('\n');
  });

  it('says trials done, the last and best AUC and the time left', () => {
    expect(barLine(state)).toBe('tune [##########..........] 2/4  trial AUC 0.7000  best 0.7500 (#1)  10s, ~10s left');
  });
});
