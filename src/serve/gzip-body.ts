/**
 * @module Request bodies sent with `Content-Encoding: gzip`, inflated before they are read, as
 * TF Serving's HTTP server does (util/net_http/server/internal/evhttp_request.cc
 * NeedUncompressGzipContent: any Content-Encoding containing "gzip"; UncompressGzipBody bounded
 * by a maximum size). Inflation is bounded by serve.maxBodyBytes: a body that inflates past it
 * (a zip bomb) is refused with 413 once that many bytes came out, never inflated whole.
 */
import { gunzip } from 'node:zlib';
import { LionctrError } from '../errors.ts';
import { invalidArgument } from './tfs-error.ts';

/** Whether a Content-Encoding header asks for inflation (TF Serving: it contains "gzip"). */
export const isGzipped = (encoding: string | string[] | undefined): boolean =>
  encoding !== undefined && String(encoding).toLowerCase().includes('gzip');

/**
 * The inflated bytes of a gzip body `raw`, at most `maxBytes` of them (zlib's maxOutputLength).
 * @throws LionctrError LIONCTR_BODY_TOO_LARGE (413) when it inflates past `maxBytes`; TfsError 400
 *   `Failed to uncompress the gzipped body: <zlib's reason>` when it is not gzip (TF Serving logs
 *   that line and reads the body as empty: lionctr names the fault instead).
 */
export function gunzipBody(raw: Buffer, maxBytes: number): Promise<Buffer> {
  return new Promise((ok, fail) =>
    gunzip(raw, { maxOutputLength: maxBytes }, (err, out) => {
      if (!err) return ok(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        return fail(
          new LionctrError(
            'LIONCTR_BODY_TOO_LARGE',
            `request body inflates (Content-Encoding: gzip) past ${maxBytes} bytes (serve.maxBodyBytes)`,
            { where: 'body' },
          ),
        );
      fail(invalidArgument(`Failed to uncompress the gzipped body: ${err.message}`, 'body'));
    }),
  );
}
