/**
 * @module The unknown-slot policy, one rule for training and serving (config `schema.unknownSlots`,
 * recorded in the export manifest's `featurization.unknown_slots`): what happens to a key of a
 * JSON example (a JSON-lines or Kafka JSON record's `features`, a serving instance) that is not a
 * slot of the schema. `reject`: the training row is bad (reason `unknown_slot`; counted, and
 * dead-lettered on Kafka) and the serving request is refused with 400 naming the key; `ignore`:
 * the key is dropped (training: warned about once per source; serving: counted in
 * `lionctr_serve_unknown_slots_total`). Keys listed in `schema.ignore` are dropped under both.
 */

/** The policies, in config order. */
export const UNKNOWN_SLOT_POLICIES = ['reject', 'ignore'] as const;
/** One of UNKNOWN_SLOT_POLICIES. */
export type UnknownSlotPolicy = (typeof UNKNOWN_SLOT_POLICIES)[number];

/** The policy of exports written before the manifest recorded one (serving refused unknown slots then). */
export const DEFAULT_UNKNOWN_SLOT_POLICY: UnknownSlotPolicy = 'reject';

/** True when `v` names a policy. */
export const isUnknownSlotPolicy = (v: unknown): v is UnknownSlotPolicy =>
  (UNKNOWN_SLOT_POLICIES as readonly unknown[]).includes(v);
