/**
 * An error of the HTTP API that carries TF Serving's exact message for the same fault. The
 * response body is TF Serving's `{"error": <message>}` (MakeJsonFromStatus,
 * tensorflow_serving/util/json_tensor.cc) with lionctr's `code` and `where` beside it, so TF
 * Serving clients read `error` and lionctr's tools read `code`/`where`.
 */
import { LionctrError, type LionctrErrorCode } from '../errors.ts';

/** The status of TF Serving's absl::Status codes, as lionctr's catalogue codes (errors.ts). */
export type TfsCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED';

const CODES: Record<TfsCode, LionctrErrorCode> = {
  INVALID_ARGUMENT: 'LIONCTR_BAD_REQUEST', // 400 (http_server.cc ToHTTPStatusCode)
  NOT_FOUND: 'LIONCTR_NOT_FOUND', // 404
  METHOD_NOT_ALLOWED: 'LIONCTR_METHOD_NOT_ALLOWED', // 405: lionctr's, TF Serving answers 400 "Malformed request"
};

/** A LionctrError whose `error` field is TF Serving's message exactly (`tfsMessage`), without " (at where)". */
export class TfsError extends LionctrError {
  /** The message as TF Serving words it. */
  readonly tfsMessage: string;
  /** The methods the path takes, for the Allow header of a 405. */
  readonly allow?: string;

  /**
   * @param code TF Serving's status code for the fault.
   * @param message TF Serving's message (quoted from its source where it has one).
   * @param where lionctr's pointer to the fault: `url`, `body`, `instances[3].C1`, ...
   * @param allow for METHOD_NOT_ALLOWED: the method the path takes.
   */
  constructor(code: TfsCode, message: string, where?: string, allow?: string) {
    super(CODES[code], message, { where });
    this.tfsMessage = message;
    if (allow) this.allow = allow;
  }
}

/** Shorthand: a 400 with TF Serving's InvalidArgument message. */
export const invalidArgument = (message: string, where?: string) => new TfsError('INVALID_ARGUMENT', message, where);

/** Shorthand: a 404 with TF Serving's NotFound message. */
export const notFound = (message: string, where?: string) => new TfsError('NOT_FOUND', message, where);
