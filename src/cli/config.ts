/**
 * Config section `run`: how `lionctr run` supervises its trainer (src/cli/trainer-supervisor.ts):
 * the backoff between restarts of a trainer that failed while the endpoint keeps serving.
 */

/** Convict schema of `run.*`. */
export const runConfig = {
  restartBackoffSeconds: {
    min: {
      doc: 'Seconds before `run` restarts a trainer that failed (serving goes on; the delay doubles per failure)',
      format: 'nonneg-number',
      default: 1,
      env: 'LIONCTR_RUN_RESTART_BACKOFF_MIN_SECONDS',
    },
    max: {
      doc:
        'Most seconds between restarts of a failing trainer; a trainer that ran this long before failing ' +
        'is restarted after min again',
      format: 'nonneg-number',
      default: 60,
      env: 'LIONCTR_RUN_RESTART_BACKOFF_MAX_SECONDS',
    },
  },
};
