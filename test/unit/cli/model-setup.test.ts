/**
 * modelOf (src/cli/model-setup.ts) makes the model of `run` and `train`: every key of the
 * config's `model` section must reach it (a key left out is silently ignored: the memory budget
 * was, until a soak of `run` showed the tables past it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { modelOf } from '../../../src/cli/model-setup.ts';
import { loadConfig } from '../../../src/config/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('modelOf', () => {
  it('passes every model.* key of the config to the model', () => {
    const cfg = loadConfig(
      [],
      [
        'model.hidden=[8]',
        'model.memoryBudgetBytes=1000000',
        'model.maxRowsPerTable=5000',
        'model.admission.minCount=2',
        'model.eviction.ttlSeconds=60',
        'model.momentumDtype=bfloat16',
      ],
    );
    const model = modelOf(cfg, { numeric: [], categorical: ['C1'], embeddingDim: 4 });
    try {
      expect(model.config).toEqual(cfg.model);
      expect(model.budget.active).toBe(true);
      expect(model.budget.maxRows).toBe(5000);
    } finally {
      model.dispose();
    }
  });
});
