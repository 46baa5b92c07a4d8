/**
 * The progress output of `lionctr produce` on stderr: a redrawn bar on a terminal, log
 * lines otherwise (produce.ts feeds it from produceFile's onProgress).
 */
import type { Logger } from 'pino';

/**
 * Progress on stderr: a redrawn bar when stderr is a TTY (total counted first), else a log line every 2 s.
 * @param total messages to send (the bar's 100%), or undefined for the log lines (at level info on `logger`).
 * @returns update(n, s) with the messages sent so far and the seconds since the start (the bar is
 *   redrawn at most every 0.1 s), and end(), which draws the last state and ends the bar's line.
 */
export function progressReporter(
  logger: Logger,
  total: number | undefined,
): { update: (n: number, s: number) => void; end: () => void } {
  let last = 0;
  if (total === undefined) {
    return {
      update: (n, s) => {
        if (s - last >= 2) {
          last = s;
          logger.info(
            { messages: n, messages_per_second: Math.round(n / s) },
            `produce: ${n} messages, ${Math.round(n / s)}/s`,
          );
        }
      },
      end: () => {},
    };
  }
  const draw = (n: number, s: number) => {
    const w = 30,
      f = total ? Math.round((w * n) / total) : w;
    const percent = total ? Math.floor((100 * n) / total) : 100,
      perSecond = Math.round(n / (s || 1e-9));
    process.stderr.write(`\r[${'#'.repeat(f)}${'-'.repeat(w - f)}] ${n}/${total} ${percent}%  ${perSecond} msg/s `);
  };
  let shown: [number, number] = [0, 0];
  return {
    update: (n, s) => {
      shown = [n, s];
      if (s - last >= 0.1) {
        last = s;
        draw(n, s);
      }
    },
    end: () => {
      draw(...shown);
      process.stderr.write('\n');
    },
  };
}
