/**
 * The one error type of lionctr and its catalogue (after fastify's `lib/errors.js`): each
 * code is declared once here with its HTTP status (what the prediction endpoint answers)
 * and its CLI exit status (what `lionctr` exits with). The server and the CLI read this
 * table; nothing else maps codes. A message says what is wrong and where (slot, offset,
 * config key).
 */

/** An exit status of the `lionctr` command. */
export type ExitStatus = 1 | 2 | 3;

/**
 * Exit status of a usage error (an unknown command or option, a missing or malformed argument):
 * 2, as for a config error (LIONCTR_BAD_CONFIG), which a flag is as much as a config key.
 */
export const USAGE_EXIT: ExitStatus = 2;

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** HTTP status the endpoint answers with (4xx: the caller's fault; 5xx: ours). */
  status: number;
  /** Exit status of the `lionctr` command (2: config or input file; 3: Kafka out of reach; 1: anything else). */
  exit: ExitStatus;
  /** What the code means, for readers of logs and of this table. */
  description: string;
}

/** Every error code with its HTTP status and exit status. */
export const ERRORS = {
  LIONCTR_BAD_CONFIG: { status: 400, exit: 2, description: 'a config key, flag or schema is invalid' },
  LIONCTR_BAD_INPUT: { status: 400, exit: 2, description: 'an input file is missing or malformed' },
  LIONCTR_BAD_REQUEST: { status: 400, exit: 1, description: 'an HTTP request is malformed (body, instance, slot)' },
  LIONCTR_BAD_MESSAGE: { status: 400, exit: 1, description: 'a Kafka message or input row cannot be decoded' },
  LIONCTR_NOT_FOUND: { status: 404, exit: 1, description: 'no such route, model or version' },
  LIONCTR_METHOD_NOT_ALLOWED: { status: 405, exit: 1, description: 'the route exists for another HTTP method' },
  LIONCTR_BODY_TOO_LARGE: { status: 413, exit: 1, description: 'an HTTP request body is over serve.maxBodyBytes' },
  LIONCTR_REQUEST_TIMEOUT: {
    status: 408,
    exit: 1,
    description: 'a client took longer than serve.requestTimeoutSeconds (or headersTimeoutSeconds) to send a request',
  },
  LIONCTR_BAD_EXPORT: {
    status: 500,
    exit: 1,
    description: 'an export is corrupt, inconsistent or outside the export root',
  },
  LIONCTR_BAD_CHECKPOINT: {
    status: 500,
    exit: 1,
    description: 'a checkpoint or training state is corrupt or does not match the model',
  },
  LIONCTR_DIVERGED: {
    status: 500,
    exit: 1,
    description: 'training diverged: non-finite losses, gradients or weights (none of it is saved)',
  },
  LIONCTR_WRITE_FAILED: {
    status: 500,
    exit: 1,
    description:
      'a checkpoint, export or delta could not be written (disk full, quota, I/O error); the trainer retries',
  },
  LIONCTR_UNAVAILABLE: {
    status: 503,
    exit: 1,
    description: 'a dependency (Kafka, a backend) cannot be reached or loaded',
  },
  LIONCTR_BROKER_UNAVAILABLE: {
    status: 503,
    exit: 3,
    description: 'no Kafka broker could be reached until the deadline (an outage, not bad input): try again later',
  },
  LIONCTR_NOT_READY: { status: 503, exit: 1, description: 'no model is loaded yet, or the server is draining' },
  LIONCTR_INTERNAL: { status: 500, exit: 1, description: 'a bug: an internal invariant does not hold' },
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code that callers switch on (HTTP status, dead-letter reason, exit status). */
export type LionctrErrorCode = keyof typeof ERRORS;

/** True when `code` is a code of the catalogue. */
export const isErrorCode = (code: unknown): code is LionctrErrorCode =>
  typeof code === 'string' && Object.hasOwn(ERRORS, code);

/** The error of lionctr: a catalogued `code`, an optional `where` and machine-readable `reason`. */
export class LionctrError extends Error {
  readonly code: LionctrErrorCode;
  /** Where the problem is: a config key, slot name, `file:line`, `topic/partition@offset`, JSON path. */
  readonly where?: string;
  /** Short machine-readable reason (e.g. dead-letter reason `bad_json`, `missing_label`). */
  readonly reason?: string;

  constructor(
    code: LionctrErrorCode,
    message: string,
    opts: { where?: string; reason?: string; cause?: unknown } = {},
  ) {
    super(opts.where ? `${message} (at ${opts.where})` : message, { cause: opts.cause });
    this.name = 'LionctrError';
    this.code = code;
    this.where = opts.where;
    this.reason = opts.reason;
  }

  /** HTTP status of this error (from ERRORS). */
  get status(): number {
    return ERRORS[this.code].status;
  }

  /** CLI exit status of this error (from ERRORS). */
  get exitCode(): ExitStatus {
    return ERRORS[this.code].exit;
  }
}

/**
 * HTTP status the prediction endpoint answers for an error: a LionctrError's from ERRORS; an
 * error that carries a 4xx `statusCode` (fastify's own: 413 body too large, 415, ...) keeps it;
 * anything else is 500 (its body then says LIONCTR_INTERNAL unless the error has a code).
 */
export function httpStatusOf(err: unknown): number {
  if (err instanceof LionctrError) return err.status;
  const statusCode = (err as { statusCode?: number } | null)?.statusCode;
  return statusCode && statusCode < 500 ? statusCode : 500;
}

/**
 * Exit status of the `lionctr` command for an error: from ERRORS when its `code` is catalogued
 * (read from the code, not the class: an error thrown in the trainer's worker thread reaches
 * the main thread as a plain Error that kept its `code`), else 1.
 */
export function exitStatusOf(err: unknown): ExitStatus {
  const code = (err as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? ERRORS[code].exit : 1;
}
