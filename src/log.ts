import pino, { type Logger } from 'pino';

/** The destinations of the loggers made here: pino writes them asynchronously (sonic-boom buffers). */
const destinations = new Set<ReturnType<typeof pino.destination>>();

/** The process logger: pino JSON lines on stderr (stdout stays for command output such as `eval --json`). */
export function createLogger(level = 'info'): Logger {
  const dest = pino.destination(2);
  destinations.add(dest);
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/**
 * Writes out what the loggers still buffer, now (before a last line of the process's own, so that
 * it stays last: pino's buffer is otherwise flushed at exit, after it). Errors are ignored (a
 * destination not open yet or closed has nothing to write).
 */
export function flushLogs(): void {
  for (const d of destinations)
    try {
      d.flushSync();
    } catch {
      // not ready or already ended: nothing buffered to write
    }
}
