/**
 * The model and optimizer settings of a config, made once for every command and benchmark
 * that trains (`run`, `train`, bench/synthetic-curve.ts, bench/optimizer-ablation.ts), so that
 * each honours every `model.*` and `optim.*` key the same way.
 */
import type { LionctrConfig } from '../config/schema.ts';
import { LionctrError } from '../errors.ts';
import type { FeatureSchema } from '../features/schema.ts';
import { CtrModel } from '../model/ctr-model.ts';
import { inputLayoutOf } from './input-layout.ts';
import { lionFromAdamW, type LionParams } from '../train/optim/lion-config.ts';
import type { OptimConfig } from '../train/optim/optim-config.ts';

/**
 * A fresh CtrModel of `schema` with the config's `model.*` settings (tower, init, seed, FM,
 * momentum dtype, admission, eviction, memory budget): the whole section, so that a key added to
 * it reaches the model without being listed here.
 */
export function modelOf(cfg: LionctrConfig, schema: FeatureSchema): CtrModel {
  const model = new CtrModel(schema, cfg.model);
  // recorded in the exports' manifest (src/model/serving-rules.ts)
  model.rules = { unknownSlots: cfg.schema.unknownSlots, negativeRate: cfg.train.negativeRate };
  model.inputLayout = inputLayoutOf(cfg); // recorded too: eval reads files laid out the same way
  return model;
}

/**
 * The optimizer settings of the config's `optim.*` keys: groups (read as AdamW settings and
 * converted when `optim.fromAdamW.enabled`, Chen et al. 2023 sec. 5), schedule, clipping, kernel,
 * sparse mode and per-slot overrides.
 * @param slots the model's slots, which `optim.tables` may name.
 * @throws LionctrError LIONCTR_BAD_CONFIG when `optim.tables` names a slot that `slots` lacks.
 */
export function optimConfigOf(cfg: LionctrConfig, slots: readonly string[]): OptimConfig {
  const o = cfg.optim;
  for (const slot of Object.keys(o.tables)) {
    if (!slots.includes(slot))
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `optim.tables names slot "${slot}", which the schema does not have`,
        {
          where: `optim.tables.${slot}`,
        },
      );
  }
  const conv = (p: LionParams) => (o.fromAdamW.enabled ? lionFromAdamW(p, o.fromAdamW.factor) : p);
  const tables: OptimConfig['tables'] = {};
  for (const [slot, over] of Object.entries(o.tables)) tables[slot] = conv({ ...o.embedding, ...over } as LionParams);
  return {
    dense: conv(o.dense),
    embedding: conv(o.embedding),
    linear: conv(o.linear),
    bias: conv(o.bias),
    schedule: o.schedule,
    sparseMode: o.sparseMode,
    sparseKernel: o.sparseKernel,
    clipGlobalNorm: o.clipGlobalNorm,
    tables,
  };
}
