/**
 * The progress bar of `lionctr tune` on stderr: on a terminal one line redrawn in place
 * (`[#####.....] 5/20  trial AUC 0.7412  best 0.7480 (#3)  12s, ~36s left`); elsewhere (a
 * pipe, a log file) one such line per finished trial.
 */

/** Where the bar is drawn: a writable with an optional isTTY (process.stderr). */
export interface BarOutput {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** Characters of the bar itself. */
const WIDTH = 20;

/** The bar's text after `done` of `total` trials (no newline). */
export function barLine(o: {
  done: number;
  total: number;
  last: number;
  best: number;
  bestIndex: number;
  seconds: number;
}): string {
  const filled = Math.round((WIDTH * o.done) / Math.max(1, o.total));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
  const fx = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(4));
  const left = o.done > 0 ? ((o.total - o.done) * o.seconds) / o.done : NaN;
  const eta = o.done < o.total && Number.isFinite(left) ? `, ~${Math.round(left)}s left` : '';
  return (
    `tune ${bar} ${o.done}/${o.total}  trial AUC ${fx(o.last)}  best ${fx(o.best)} (#${o.bestIndex + 1})  ` +
    `${Math.round(o.seconds)}s${eta}`
  );
}

/** A progress bar on `out`: update() after each trial, end() once. */
export class ProgressBar {
  private lastLength = 0;

  constructor(private readonly out: BarOutput) {}

  /** Draws the state after a trial: redrawn in place on a terminal, else one line. */
  update(state: Parameters<typeof barLine>[0]): void {
    const line = barLine(state);
    if (this.out.isTTY) {
      this.out.write(`\r${line}${' '.repeat(Math.max(0, this.lastLength - line.length))}`);
      this.lastLength = line.length;
    } else this.out.write(`${line}\n`);
  }

  /** Ends the bar's line on a terminal. */
  end(): void {
    if (this.out.isTTY && this.lastLength > 0) this.out.write('\n');
    this.lastLength = 0;
  }
}
