/**
 * @module How long the fault tests run: LIONCTR_FAULTS_SCALE (default 1, the CI length) multiplies
 * their kills and durations; `npm run faults -- --scale N` (test/faults/run-faults.ts) sets it.
 */

/** The multiplier of fault-test kills and durations (>= 1). */
export const FAULT_SCALE = Math.max(1, Math.floor(Number(process.env.LIONCTR_FAULTS_SCALE ?? 1)) || 1);
