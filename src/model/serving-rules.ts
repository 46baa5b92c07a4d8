/**
 * @module The two rules an export carries from its trainer to whoever scores with it (serving,
 * `lionctr eval`, the Python reproduction), recorded in the manifest's `featurization`:
 * `unknown_slots` (schema.unknownSlots, src/features/unknown-slots.ts) and
 * `output.negative_rate` (train.negativeRate r: the training log kept each negative with
 * probability r). A model trained on such a log predicts q on the sampled scale; the prediction
 * on the log's own scale is the recalibration of He et al. 2014 ("Practical Lessons from
 * Predicting Clicks on Ads at Facebook", sec. 6.2): p = q / (q + (1 - q) / r), which is
 * sigmoid(logit + ln r): the odds are scaled by r.
 */
import { DEFAULT_UNKNOWN_SLOT_POLICY, isUnknownSlotPolicy, type UnknownSlotPolicy } from '../features/unknown-slots.ts';

/** The rules of one model. */
export interface ServingRules {
  /** What a JSON example's key that is no slot does. */
  unknownSlots: UnknownSlotPolicy;
  /** r in (0, 1]: the rate negatives were kept at in training; 1 = not downsampled (no recalibration). */
  negativeRate: number;
}

/** The rules of a model trained without either setting (and of exports written before they were recorded). */
export const DEFAULT_SERVING_RULES: Readonly<ServingRules> = {
  unknownSlots: DEFAULT_UNKNOWN_SLOT_POLICY,
  negativeRate: 1,
};

/**
 * The rules an export manifest records (`featurization.unknown_slots`,
 * `featurization.output.negative_rate`); DEFAULT_SERVING_RULES for a field that is absent or
 * out of range (an export older than the field).
 */
export function servingRulesOf(manifest?: {
  featurization?: { unknown_slots?: unknown; output?: { negative_rate?: unknown } };
}): ServingRules {
  const f = manifest?.featurization;
  const u = f?.unknown_slots;
  const r = f?.output?.negative_rate;
  return {
    unknownSlots: isUnknownSlotPolicy(u) ? u : DEFAULT_SERVING_RULES.unknownSlots,
    negativeRate: typeof r === 'number' && r > 0 && r <= 1 ? r : 1,
  };
}

/**
 * A prediction q made on a log whose negatives were kept at rate r, on the log's own scale:
 * q / (q + (1 - q) / r) in float64 (He et al. 2014, sec. 6.2). r = 1 returns q; q = 0 or 1
 * stays; NaN stays NaN.
 */
export function recalibrate(q: number, r: number): number {
  if (r === 1) return q;
  return q / (q + (1 - q) / r);
}

/** recalibrate() of every prediction of `p` in place (float64 math, stored in p's type); r = 1 leaves p. */
export function recalibrateAll<T extends { length: number; [i: number]: number }>(p: T, r: number): T {
  if (r === 1) return p;
  for (let i = 0; i < p.length; i++) p[i] = recalibrate(p[i], r);
  return p;
}
