/**
 * @module The answer to an error a route, hook or body parser raised: its HTTP status (the error
 * catalogue's, src/errors.ts), TF Serving's body `{"error": <message>}` with lionctr's `code` and
 * `where`, and the `Allow` header of a 405. Shared by fastify's error handler and the predict hot
 * path (src/serve/predict-hot-path.ts), so both answer a fault alike.
 */
import type { Logger } from 'pino';
import { httpStatusOf } from '../errors.ts';
import { TfsError } from './tfs-error.ts';

/** What an error is answered with. */
export interface ErrorAnswer {
  /** HTTP status (errors.ts httpStatusOf). */
  status: number;
  /** `{error, code, where?}`: TF Serving's message, a LIONCTR_* code, where the fault is. */
  body: { error: string; code: string; where?: string };
  /** The `Allow` header of a 405 (TfsError.allow). */
  allow?: string;
  /** The error's own code (fastify's FST_*, lionctr's), for the log. */
  ownCode?: string;
}

/**
 * The answer to `err`. A framework's own code (fastify's FST_ERR_*) is named by the catalogue's:
 * clients see LIONCTR_* codes only; a 413 not raised by lionctr names the limit `maxBody`.
 */
export function errorAnswer(err: unknown, maxBody: number): ErrorAnswer {
  const e = err as Error & { statusCode?: number; code?: string; where?: string };
  const status = httpStatusOf(e);
  const where = e.where ?? (status === 413 || e.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined);
  const ours = e.code?.startsWith('LIONCTR_') ? e.code : undefined;
  let message = e instanceof TfsError ? e.tfsMessage : e.message;
  if (status === 413 && !ours) message = `${message} (limit ${maxBody} bytes, serve.maxBodyBytes)`;
  const named = status === 413 ? 'LIONCTR_BODY_TOO_LARGE' : status < 500 ? 'LIONCTR_BAD_REQUEST' : 'LIONCTR_INTERNAL';
  const body = { error: message, code: ours ?? named, ...(where ? { where } : {}) };
  return { status, body, allow: e instanceof TfsError ? e.allow : undefined, ownCode: e.code };
}

/** Logs a 5xx answer `a` to `method url` (every 5xx is logged, with the error). */
export function logServerError(
  logger: Logger | undefined,
  route: string,
  method: string | undefined,
  url: string | undefined,
  a: ErrorAnswer,
  err: unknown,
): void {
  logger?.error(
    { route, status: a.status, method, url, code: a.ownCode, err },
    `${method} ${url} answered ${a.status}: ${a.body.error}`,
  );
}
