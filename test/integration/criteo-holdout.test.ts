import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

// The README's commands, run as a user would: train on the first 8,000 rows of the Criteo
// sample (2 passes, config/criteo.json), evaluate on the last 1,999. Bar: holdout AUC >= 0.74
// (tuned logistic regression in ../shared/data/criteo-10k/README.md: 0.7435).
describe.skipIf(!haveShared(CRITEO_TSV))('Criteo sample holdout', () => {
  it('lionctr train + eval reaches holdout AUC >= 0.74', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-criteo-'));
    try {
      const cli = (...args: string[]) =>
        execFileSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      cli(
        'train',
        '--config',
        'config/criteo.json',
        '--input',
        CRITEO_TSV,
        '--format',
        'criteo',
        '--limit',
        '8000',
        '--epochs',
        '2',
        '--export-dir',
        dir,
      );
      const out = JSON.parse(
        cli('eval', '--model', dir, '--input', CRITEO_TSV, '--format', 'criteo', '--skip', '8000', '--json'),
      );
      console.log(`criteo holdout: ${JSON.stringify(out)}`);
      expect(out.examples).toBe(1999);
      expect(out.auc).toBeGreaterThanOrEqual(0.74);
      expect(out.logloss).toBeLessThan(0.48);
      expect(out.calibration).toBeGreaterThan(0.8);
      expect(out.calibration).toBeLessThan(1.25);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
