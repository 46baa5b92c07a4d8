/**
 * `lionctr run`'s trainer supervisor (issue 17): a trainer that fails never takes the prediction
 * endpoint down. The endpoint goes on serving the last good export while the supervisor reports
 * training down (`describe()`, shown by /readyz as `training`; gauge lionctr_train_up 0) and
 * starts the trainer again after an exponential backoff (run.restartBackoffSeconds: min, doubled
 * per failure in a row up to max; back to min after a trainer that ran max seconds before it
 * failed), counting lionctr_train_restarts_total. A restarted trainer resumes from the newest
 * checkpoint, as a new process would.
 *
 * A diverged trainer (LIONCTR_DIVERGED: non-finite weights, nothing of it written) is not
 * restarted: resumed from its last good checkpoint it would meet the same examples with the same
 * settings and diverge again. Serving keeps the last good version; training stays down (reported
 * as `diverged: ...`) until an operator changes the settings and restarts `run`.
 */
import type { Logger } from 'pino';
import type { TrainSummary } from '../train/trainer-options.ts';

/** Where the supervised trainer stands. */
export type TrainingState = 'starting' | 'up' | 'down' | 'diverged' | 'finished' | 'stopped';

/** A supervisor's settings and collaborators. */
export interface SupervisorOptions {
  /**
   * Starts one trainer and resolves with its summary when its source ended, or rejects with its
   * error; it calls `active()` once the trainer reads its source (its first event). `signal`
   * asks it to stop gracefully.
   */
  start: (signal: AbortSignal, active: () => void) => Promise<TrainSummary>;
  /** run.restartBackoffSeconds. */
  backoff: { min: number; max: number };
  logger: Logger;
  metrics: { trainUp: { set(v: number): void }; trainRestarts: { inc(): void } };
  /** The process's shutdown signal: no restart after it. */
  signal: AbortSignal;
  /** Waits `ms` or until `signal` aborts (tests pass a fast one). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Waits `ms`, or less when `signal` aborts. */
export const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((res) => {
    if (signal.aborted) return res();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Runs a trainer again and again until its source ends, it diverges, or the process stops. */
export class TrainerSupervisor {
  state: TrainingState = 'starting';
  /** Restarts so far. */
  restarts = 0;
  /** The last failure's message (while down or diverged). */
  lastError = '';
  /** When the next start is due (Date.now() ms; while down). */
  private nextStartAt = 0;

  constructor(private readonly o: SupervisorOptions) {}

  /**
   * What /readyz says about training: `up`, `starting`, `down: <error>; restart 3 in 8 s`,
   * `diverged: <error>; not restarted ...`, `finished: the source ended`, `stopped`.
   */
  describe(): string {
    if (this.state === 'down') {
      const inS = Math.max(0, Math.ceil((this.nextStartAt - Date.now()) / 1000));
      return `down: ${this.lastError}; restart ${this.restarts + 1} in ${inS} s`;
    }
    if (this.state === 'diverged')
      return `diverged: ${this.lastError}; not restarted (it would diverge again from its last good checkpoint)`;
    if (this.state === 'finished') return 'finished: the source ended';
    return this.state;
  }

  /**
   * Runs the trainer (see the module doc) until its source ends (resolves with its summary), it
   * diverges, or the shutdown signal fires (resolves null). Never rejects.
   */
  async run(): Promise<TrainSummary | null> {
    const { o } = this;
    const sleep = o.sleep ?? abortableSleep;
    let failuresInARow = 0;
    while (!o.signal.aborted) {
      const startedAt = Date.now();
      this.setState('starting');
      try {
        const summary = await o.start(o.signal, () => this.setState('up'));
        this.setState(o.signal.aborted ? 'stopped' : 'finished');
        return summary;
      } catch (e) {
        const err = e as Error & { code?: string };
        this.lastError = `${err.code ? `[${err.code}] ` : ''}${err.message}`;
        if (err.code === 'LIONCTR_DIVERGED') {
          this.setState('diverged');
          o.logger.error({ err }, `training diverged; serving goes on with the last good export: ${err.message}`);
          return null;
        }
        if (o.signal.aborted) {
          o.logger.error({ err }, `the trainer failed while stopping: ${this.lastError}`);
          break;
        }
        // a trainer that ran a while before it failed starts the backoff afresh
        failuresInARow = Date.now() - startedAt >= o.backoff.max * 1000 ? 1 : failuresInARow + 1;
        const delayS = Math.min(o.backoff.max, o.backoff.min * 2 ** Math.min(failuresInARow - 1, 30));
        this.nextStartAt = Date.now() + delayS * 1000;
        this.setState('down');
        o.logger.error(
          { err, failuresInARow, restartInSeconds: delayS },
          `the trainer failed (${failuresInARow} in a row); serving goes on with the last good export; ` +
            `restarting it in ${delayS} s: ${this.lastError}`,
        );
        await sleep(delayS * 1000, o.signal);
        if (o.signal.aborted) break;
        this.restarts++;
        o.metrics.trainRestarts.inc();
        o.logger.info(`restarting the trainer (restart ${this.restarts})`);
      }
    }
    this.setState('stopped');
    return null;
  }

  private setState(s: TrainingState): void {
    this.state = s;
    this.o.metrics.trainUp.set(s === 'up' ? 1 : 0);
  }
}
