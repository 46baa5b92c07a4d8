/**
 * The one error type of lionctr (after fastify's FST_ERR_* codes): a stable `code` that
 * callers switch on (HTTP status, dead-letter reason, exit status) and a message that
 * says what is wrong and where (slot, offset, config key).
 */
export type LionctrErrorCode =
  | 'LIONCTR_BAD_CONFIG'
  | 'LIONCTR_BAD_REQUEST'
  | 'LIONCTR_BAD_MESSAGE'
  | 'LIONCTR_BAD_INPUT'
  | 'LIONCTR_BAD_EXPORT'
  | 'LIONCTR_NOT_READY'
  | 'LIONCTR_NOT_FOUND'
  | 'LIONCTR_METHOD_NOT_ALLOWED';

export class LionctrError extends Error {
  readonly code: LionctrErrorCode;
  /** Where the problem is: a config key, slot name, `file:line`, `topic/partition@offset`, JSON path. */
  readonly where?: string;
  /** Short machine-readable reason (e.g. dead-letter reason `bad_json`, `missing_label`). */
  readonly reason?: string;

  constructor(code: LionctrErrorCode, message: string, opts: { where?: string; reason?: string; cause?: unknown } = {}) {
    super(opts.where ? `${message} (at ${opts.where})` : message, { cause: opts.cause });
    this.name = 'LionctrError';
    this.code = code;
    this.where = opts.where;
    this.reason = opts.reason;
  }
}
