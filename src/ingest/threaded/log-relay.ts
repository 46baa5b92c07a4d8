/**
 * Logs of the ingest thread on the training thread's logger: the ingest thread's pino writes
 * each JSON line into a message (`relayingLogger`); the training side logs it again at its
 * level with its fields (`relayLogLine`), so that both threads' lines go where the process's
 * logs go (and tests that capture a logger see the Kafka consumer's lines).
 * @module
 */
import pino, { type Logger } from 'pino';

/** A pino logger at `level` whose lines go to `send` (one JSON line per call). */
export function relayingLogger(level: string, send: (line: string) => void): Logger {
  return pino({ level, base: undefined }, { write: (line: string) => send(line) });
}

/** Logs the pino JSON `line` of another thread on `logger` (same level, message and fields). */
export function relayLogLine(logger: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line);
  } catch {
    logger.warn({ line }, 'ingest thread: an unreadable log line');
    return;
  }
  const { level, msg, time: _time, ...fields } = rec;
  const label = pino.levels.labels[level as number] as pino.Level | undefined;
  const log = logger[label ?? 'info'].bind(logger);
  if (typeof msg === 'string') log(fields, msg);
  else log(fields);
}
