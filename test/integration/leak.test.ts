import { describe, expect, it } from 'vitest';
import { soak } from '../helpers/soak.ts';

// A shortened bench/soak.ts (the same loop, test/helpers/soak.ts) (the full one runs 10,000
// steps and 100,000 predictions):
// tensors and tfjs bytes must stay exactly flat; RSS may not grow by more than 16 MB over
// the second half. Fails on a missing dispose/tidy anywhere in the step or predict path.
describe('long-running daemon does not leak', () => {
  it('numTensors, tfjs bytes and RSS stay flat over 1,500 steps and 20,000 predictions', async () => {
    const r = await soak({
      steps: 1500,
      predictions: 20_000,
      batch: 64,
      rssSlackMb: 16,
      hidden: [32, 16],
      dim: 8,
      log: () => {},
    });
    console.log(r.lines.join('\n'));
    expect(new Set(r.tensors).size).toBe(1);
    expect(r.ok).toBe(true);
  });
});
