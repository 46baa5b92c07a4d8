/**
 * The streaming progressive AUC (src/train/evaluation/progressive.ts, issue 15) against
 * scikit-learn's roc_auc_score (test/python/auc_check.py) on 1.2 * 10^6 examples of the seeded
 * stream of test/helpers/scored-stream.ts: the window (10^5 and 10^6) and lifetime AUCs lie within
 * their stated bounds of scikit-learn's, and the test's own exact sort-based AUC equals
 * scikit-learn's to 1e-12 (the reference of the unit tests is right). Python comes from
 * test/helpers/python-venv.ts (skipped with the reason when there is none, failing under CI=true).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressiveMetrics } from '../../src/train/evaluation/progressive.ts';
import { findPython } from '../helpers/python-venv.ts';
import { exactAuc, scoredStream } from '../helpers/scored-stream.ts';

const run = promisify(execFile);
const CHECK = resolve(import.meta.dirname, '../python/auc_check.py');
const N = 1_200_000;

const choice = await findPython(['numpy', 'sklearn']);
const ci = process.env.CI === 'true';
if (!choice.python && !ci) console.warn(`scikit-learn AUC test skipped: ${choice.why}`);

describe.skipIf(!choice.python && !ci)('progressive AUC against scikit-learn roc_auc_score', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('window 1e5, window 1e6 and lifetime: within the stated bound', async () => {
    if (!choice.python) throw new Error(`no Python with scikit-learn: ${choice.why}`);
    const s = scoredStream(N, 15);
    const small = new ProgressiveMetrics(100_000),
      large = new ProgressiveMetrics(1_000_000);
    for (let i = 0; i < N; i += 4096) {
      const e = Math.min(N, i + 4096);
      for (const pm of [small, large]) pm.add(s.pred.subarray(i, e), s.labels.subarray(i, e));
    }
    dir = await mkdtemp(join(tmpdir(), 'lionctr-sklearn-'));
    const file = join(dir, 'scored.bin');
    const bytes = new Uint8Array(9 * N);
    new Float64Array(bytes.buffer, 0, N).set(s.pred);
    for (let i = 0; i < N; i++) bytes[8 * N + i] = s.labels[i];
    await writeFile(file, bytes);
    const ranges: [number, number][] = [
      [N - 100_000, N],
      [N - 1_000_000, N],
      [0, N],
    ];
    const args = [CHECK, file, String(N), ...ranges.map(([a, b]) => `${a}:${b}`)];
    const { stdout } = await run(choice.python, args, { timeout: 120_000 });
    const got = JSON.parse(stdout) as { sklearn: string; auc: number[] };
    const figures = [small.figures(), large.figures(), large.lifetime()];
    const lines = ranges.map(([a, b], k) => {
      const f = figures[k];
      const err = Math.abs(f.auc - got.auc[k]);
      expect(f.examples).toBe(b - a);
      expect(err, `[${a}, ${b})`).toBeLessThanOrEqual(f.aucErrorBound);
      expect(Math.abs(exactAuc(s.pred, s.labels, a, b) - got.auc[k])).toBeLessThan(1e-12);
      const figs = `sklearn ${got.auc[k].toFixed(6)}, streaming ${f.auc.toFixed(6)}`;
      return `[${a}, ${b}): ${figs}, |diff| ${err.toExponential(1)} <= bound ${f.aucErrorBound.toExponential(1)}`;
    });
    console.log(`scikit-learn ${got.sklearn}:\n  ${lines.join('\n  ')}`);
  });
});
