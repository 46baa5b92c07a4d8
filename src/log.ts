import pino, { type Logger } from 'pino';

/** The process logger: pino JSON lines on stderr (stdout stays for command output such as `eval --json`). */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
