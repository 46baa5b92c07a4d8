/**
 * What the prediction endpoint answers on a connection whose request never reached a route
 * (Node's 'clientError'): a request not received in time (serve.requestTimeoutSeconds,
 * headersTimeoutSeconds) gets 408 in lionctr's JSON error shape, counted and logged; a request
 * Node cannot parse gets 400 (431 for headers too large), as fastify's default handler answers.
 * The connection is closed either way, and what it had sent is dropped with it.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ERRORS } from '../errors.ts';

/** Writes the raw response and closes the socket (nothing is written when it cannot take it). */
function answer(socket: Socket, status: number, body: object, err: Error): void {
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}

/**
 * A 'clientError' handler (fastify's `clientErrorHandler` option).
 * @param count counts an answer by status (lionctr_serve_requests_total, route "unknown"); gets the
 *   socket answered, whose request a route may still be reading (then it fails, uncounted).
 * @param limits the timeouts, seconds, for the message.
 */
export function clientErrorHandler(
  count: (status: number, socket: Socket) => void,
  limits: { requestTimeoutSeconds: number; headersTimeoutSeconds: number },
  logger?: Logger,
): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // a reset connection is gone: nothing to answer
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const { status } = ERRORS.LIONCTR_REQUEST_TIMEOUT;
      const message =
        `request not received in time: headers within ${limits.headersTimeoutSeconds} s and the whole request ` +
        `within ${limits.requestTimeoutSeconds} s (serve.headersTimeoutSeconds, serve.requestTimeoutSeconds)`;
      count(status, socket);
      logger?.info({ status, remote: socket.remoteAddress }, `answered ${status}: ${message}`);
      return answer(socket, status, { error: message, code: 'LIONCTR_REQUEST_TIMEOUT', where: 'connection' }, err);
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    count(status, socket);
    answer(socket, status, { error: `${STATUS_CODES[status]}: ${err.message}`, code: 'LIONCTR_BAD_REQUEST' }, err);
  };
}
