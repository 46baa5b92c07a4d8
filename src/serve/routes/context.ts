/**
 * What the API routes (src/serve/routes/*.ts) share: the registry, the model name in URLs, the
 * metrics, and the hook awaited between scoring chunks; plus the slot kinds of a loaded model
 * (cached per featurizer).
 */
import type { Featurizer } from '../../features/featurizer.ts';
import type { UnknownSlotPolicy } from '../../features/unknown-slots.ts';
import type { ServeMetrics } from '../../metrics/catalogue.ts';
import { type SlotKinds, slotKinds } from '../json-body.ts';
import type { Scan } from '../json-fast.ts';
import type { ModelRegistry } from '../model-registry.ts';

/** The state of the API, the same for every request. */
export interface ApiContext {
  registry: ModelRegistry;
  /** serve.modelName: the one model this server serves. */
  modelName: string;
  metrics: ServeMetrics;
  /** Awaited between scoring chunks of a large request (src/serve/scoring.ts nextTurn). */
  yieldTurn: () => Promise<void>;
  /** serve.unknownSlots when it overrides the model's policy; undefined = each model's own (its manifest's). */
  unknownSlots?: UnknownSlotPolicy;
  /**
   * Checks a predict body after its fast scan (undefined: not of the fast form) and before anything
   * else reads it (the predict hot path's key-count guard, src/serve/predict-hot-path.ts; fastify's
   * route checks the body in its parser instead). @throws what the guard finds.
   */
  guardBody?: (text: string, scan: Scan | undefined) => void;
}

/** Per request: names the version the response comes from (the x-lionctr-model-version header). */
export type SetVersion = (version: string) => void;

const kindsCache = new WeakMap<Featurizer, SlotKinds>();

/** The slot kinds of a loaded model's schema (computed once per loaded version). */
export function kindsOf(f: Featurizer): SlotKinds {
  let k = kindsCache.get(f);
  if (!k) {
    k = slotKinds(f.schema);
    kindsCache.set(f, k);
  }
  return k;
}
